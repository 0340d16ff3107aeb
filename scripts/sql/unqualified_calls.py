#!/usr/bin/env python3
"""Unqualified function calls and bare operators in the SQL pg_perfsuite runs as a superuser.

CREATE EXTENSION and ALTER EXTENSION UPDATE run their scripts with the extension's
schema on the search_path (CVE-2023-39417): an object another role plants there can
out-match a built-in. So everything those scripts execute or store (column defaults,
CHECK constraints, views, function bodies, DO blocks, the expressions of INSERT and
UPDATE statements) names its functions by schema (pg_catalog.now(), @extschema@.f())
and its operators as OPERATOR(pg_catalog.=).

What is code and what is data:
  - single-quoted literals are data (a LANGUAGE sql/plpgsql function body written in
    single quotes is reported: write it in dollar quotes);
  - a dollar-quoted string is code when it follows DO (or DO LANGUAGE x) or the AS of a
    CREATE FUNCTION/PROCEDURE; it is checked like the statement around it;
  - every other dollar-quoted string is data: the registry's test SQL and load scripts,
    stored as rows and run later by the runner (in the schema under test).
Left alone as syntax: keywords that take parentheses (CASE, COALESCE, NULLIF,
GREATEST, LEAST, IN, EXISTS, CAST, ANY, ARRAY, ROW, FILTER, OVER, ...), IS [NOT]
DISTINCT FROM, BETWEEN, type names with a modifier (numeric(10,2)), names being
defined or referred to as objects (CREATE TABLE t (...), INSERT INTO t (...),
REFERENCES t (...), ON t (...) of CREATE INDEX, FUNCTION f(...) of CREATE/DROP/REVOKE,
a CTE's or an alias's column list), assignments (UPDATE ... SET c = v, SET name =
value, RAISE ... USING opt = v, :=, =>). Also reported: LIKE/ILIKE/SIMILAR TO (write
OPERATOR(pg_catalog.~~) and friends), a trigger's EXECUTE FUNCTION f() (write
@extschema@.f()), OPERATOR(...) of another schema than pg_catalog, calls qualified with
another schema than pg_catalog or @extschema@.
Not seen: SQL built at run time (EXECUTE of a string), which is data here.

  scripts/sql/unqualified_calls.py            # the install and upgrade scripts' sources
  scripts/sql/unqualified_calls.py FILE...    # these files
Prints file:line: name for each finding; exit 1 when there is one, 0 when none.
"""
import os
import re
import sys

def install_and_upgrade_files(root):
    """What CREATE EXTENSION and ALTER EXTENSION UPDATE run, found rather than listed:
    every file src/lib.rs puts into the install script, and every upgrade script."""
    with open(os.path.join(root, "src", "lib.rs"), encoding="utf-8") as f:
        lib = f.read()
    files = [os.path.normpath(os.path.join(root, "src", p))
             for p in re.findall(r'extension_sql_file!\(\s*"([^"]+)"', lib)]
    sql = os.path.join(root, "sql")
    files += sorted(os.path.join(sql, n) for n in os.listdir(sql)
                    if re.fullmatch(r"pg_perfsuite--[^-]+--[^-]+\.sql", n))
    return files

# Schemas a call or an operator may be qualified with.
QUALIFIERS = {"pg_catalog", "@extschema@"}

# Words followed by "(" that are syntax, not a function looked up by name.
SYNTAX = {
    "all", "and", "any", "array", "as", "between", "by", "case", "cast", "check", "coalesce",
    "collate", "conflict", "constraint", "cube", "default", "distinct", "do", "else", "elsif",
    "end", "except", "exists", "filter", "for", "foreign", "from", "greatest", "group",
    "grouping", "having", "if", "in", "include", "intersect", "into", "is", "join", "key",
    "lateral", "least", "like", "limit", "loop", "materialized", "not", "nullif", "offset",
    "on", "or", "order", "over", "partition", "perform", "primary", "query", "raise",
    "recursive", "references", "return", "returning", "returns", "rollup", "row", "rows",
    "select", "set", "sets", "some", "table", "then", "union", "unique", "using", "values",
    "when", "where", "while", "window", "with", "within",
    # SQL-standard function syntax the grammar itself maps to pg_catalog.
    "extract", "position", "trim", "treat", "normalize", "xmlelement", "xmlforest",
    "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmlexists", "xmlconcat",
    "xmlattributes", "json_object", "json_array", "json_scalar", "json_serialize",
    "json_query", "json_value", "json_exists", "json_table", "json_arrayagg",
    "json_objectagg", "json",
}
# Type names that take a modifier in parentheses.
TYPES = {
    "numeric", "decimal", "dec", "varchar", "char", "character", "varying", "bpchar",
    "bit", "varbit", "timestamp", "timestamptz", "time", "timetz", "interval", "float",
    "national", "nchar", "nvarchar",
}
# Words after which "name (" names an object rather than calling a function.
DEFINES = {"table", "into", "references", "function", "procedure", "view", "type",
           "aggregate", "sequence", "index", "trigger", "policy", "extension"}
# Keywords after which a "-" or "*" starts an operand (unary minus, SELECT *).
KEYWORDS = SYNTAX | {"null", "true", "false", "not", "distinct", "only", "asc", "desc",
                     "nulls", "first", "last", "interval", "to", "begin", "declare",
                     "execute", "strict", "each", "before", "after", "instead",
                     "immutable", "stable", "volatile", "language", "security",
                     "definer", "invoker", "cost", "leakproof", "parallel", "safe"}
# Keywords that end an operand: CASE ... END - x, NULL || x.
OPERAND_WORDS = {"end", "null", "true", "false"}
RAISE_OPTIONS = {"errcode", "message", "detail", "hint", "column", "constraint",
                 "datatype", "table", "schema"}
LIKE_WORDS = {"like", "ilike", "similar"}
OPCHARS = set("+-*/<>=~!@#%^&|`?")

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<linecomment>--[^\n]*)
  | (?P<blockcomment>/\*)
  | (?P<dollar>\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)
  | (?P<estring>[Ee]'(?:[^'\\]|\\.|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<extschema>@[A-Za-z_]+@)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<param>\$\d+)
  | (?P<ident>[A-Za-z_\x80-\uffff][A-Za-z_0-9$\x80-\uffff]*)
  | (?P<cast>::)
  | (?P<assign>:=)
  | (?P<op>[+\-*/<>=~!@#%^&|`?]+)
  | (?P<punct>[(),;\[\].:])
    """,
    re.VERBOSE,
)


class Tok:
    __slots__ = ("kind", "text", "pos", "body")

    def __init__(self, kind, text, pos, body=None):
        self.kind, self.text, self.pos, self.body = kind, text, pos, body

    @property
    def word(self):
        return self.text.lower() if self.kind == "ident" else None


def block_comment_end(text, i):
    """Index just past the block comment starting at i (they nest in PostgreSQL)."""
    depth, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(text)


def tokenize(text, base, plpgsql_directives=False):
    """Tokens of text (positions offset by base), comments and psql meta lines dropped."""
    toks, i = [], 0
    at_line_start = True
    while i < len(text):
        if at_line_start:
            # psql meta-commands (\echo ... \quit) and PL/pgSQL compiler options (#variable_conflict).
            m = re.match(r"[ \t]*(\\|#(?=[a-z_]))" if plpgsql_directives else r"[ \t]*\\", text[i:])
            if m:
                j = text.find("\n", i)
                i = len(text) if j < 0 else j
                continue
        m = TOKEN.match(text, i)
        if not m:
            raise SyntaxError(f"cannot read SQL at offset {base + i}: {text[i:i + 20]!r}")
        kind = m.lastgroup
        if kind == "blockcomment":
            j = block_comment_end(text, i)
            at_line_start = False
            i = j
            continue
        if kind == "dollar":
            tag = m.group()
            j = text.find(tag, m.end())
            if j < 0:
                raise SyntaxError(f"unterminated dollar quote {tag} at offset {base + i}")
            toks.append(Tok("dollar", tag, base + i, (text[m.end():j], base + m.end())))
            i = j + len(tag)
            at_line_start = False
            continue
        at_line_start = kind == "ws" and m.group().endswith("\n")
        if kind not in ("ws", "linecomment"):
            toks.append(Tok(kind, m.group(), base + i))
        elif kind == "linecomment":
            at_line_start = True
        i = m.end()
    return toks


def statements(toks):
    """Split tokens at top-level semicolons."""
    cur = []
    for t in toks:
        if t.kind == "punct" and t.text == ";":
            if cur:
                yield cur
            cur = []
        else:
            cur.append(t)
    if cur:
        yield cur


def matching_paren(toks, i):
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "punct" and toks[j].text == "(":
            depth += 1
        elif toks[j].kind == "punct" and toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


class Checker:
    def __init__(self, path, text):
        self.path, self.text = path, text
        self.findings = []

    def line(self, pos):
        return self.text.count("\n", 0, pos) + 1

    def report(self, pos, what):
        self.findings.append((self.line(pos), what))

    def check_code(self, text, base, plpgsql=False):
        toks = tokenize(text, base, plpgsql_directives=plpgsql)
        for st in statements(toks):
            self.check_statement(st)

    def check_statement(self, st):
        words = [t.word for t in st]
        first = [w for w in words[:4] if w]
        is_function_ddl = len(first) >= 2 and first[0] == "create" and (
            "function" in first[:4] or "procedure" in first[:4])
        is_index_ddl = bool(first) and first[0] == "create" and "index" in first[:3]
        is_trigger_ddl = bool(first) and first[0] == "create" and "trigger" in first[:4]
        language = None
        if is_function_ddl:
            for k in range(len(st) - 1):
                if st[k].word == "language" and st[k + 1].kind in ("ident", "string", "qident"):
                    language = st[k + 1].text.strip("'\"").lower()
        set_depth = None           # UPDATE ... SET a = v, b = w: the parenthesis depth of SET
        in_raise_using = False     # RAISE ... USING opt = v
        skip_until = -1            # the inside of OPERATOR(...), already judged
        depth = 0
        for i, t in enumerate(st):
            prev = st[i - 1] if i > 0 else None
            prev2 = st[i - 2] if i > 1 else None
            nxt = st[i + 1] if i + 1 < len(st) else None
            w = t.word
            if t.kind == "punct" and t.text == "(":
                depth += 1
            elif t.kind == "punct" and t.text == ")":
                depth -= 1
            in_set_clause = set_depth is not None and depth == set_depth
            if w == "set":
                set_depth = depth
            elif w in ("where", "from", "returning", "language", "as") and set_depth == depth:
                set_depth = None
            if w == "raise":
                in_raise_using = False
            if w == "using" and any(x.word == "raise" for x in st[:i]):
                in_raise_using = True

            if t.kind == "dollar":
                body, body_base = t.body
                code = False
                if prev is not None and prev.word == "do":
                    code = True
                elif prev is not None and prev.word == "language" and prev2 is not None and prev2.word == "do":
                    code = True
                elif prev is not None and prev2 is not None and prev2.word == "language" and \
                        i >= 3 and st[i - 3].word == "do":
                    code = True
                elif is_function_ddl and prev is not None and prev.word == "as":
                    code = language not in ("c", "internal")
                if code:
                    lang = language
                    if not is_function_ddl:
                        lang = "plpgsql"
                        for k in range(i - 1, -1, -1):
                            if st[k].word == "language" and k + 1 < len(st):
                                lang = st[k + 1].text.lower()
                    self.check_code(body, body_base, plpgsql=(lang == "plpgsql"))
                continue
            if t.kind in ("string", "estring"):
                if is_function_ddl and prev is not None and prev.word == "as" and \
                        language not in ("c", "internal"):
                    self.report(t.pos, "single-quoted function body (use dollar quotes so it is checked)")
                continue

            if i <= skip_until:
                continue

            # OPERATOR(schema.op): the schema must be a trusted one; skip its contents.
            if w == "operator" and nxt is not None and nxt.text == "(":
                end = matching_paren(st, i + 1)
                inner = st[i + 2:end]
                if not (len(inner) >= 3 and inner[0].text == "pg_catalog" and inner[1].text == "."):
                    self.report(t.pos, "OPERATOR(" + "".join(x.text for x in inner) + ")")
                skip_until = end
                continue

            if t.kind in ("ident", "qident") and nxt is not None and nxt.text == "(":
                name = t.text if t.kind == "qident" else t.text.lower()
                if prev is not None and prev.text == ".":
                    qual = st[i - 2].text if i >= 2 else ""
                    if qual not in QUALIFIERS and is_call_context(st, i - 2, is_index_ddl or is_trigger_ddl):
                        self.report(t.pos, f"{qual}.{t.text} (qualified with {qual})")
                    continue
                if t.kind == "ident" and (w in SYNTAX or w in TYPES):
                    continue
                if is_trigger_ddl and prev is not None and prev.word in ("function", "procedure") \
                        and prev2 is not None and prev2.word == "execute":
                    self.report(t.pos, f"{name} (the trigger's function: @extschema@.{name})")
                    continue
                if prev is not None and (prev.word in DEFINES or prev.kind == "cast"):
                    continue
                if prev is not None and prev.word == "as":
                    continue          # alias(column, ...)
                if prev is not None and prev.word == "on" and (is_index_ddl or is_trigger_ddl):
                    continue          # CREATE INDEX ... ON t (...)
                if prev is not None and prev.word == "using" and is_index_ddl:
                    continue          # CREATE INDEX ... USING gin (...)
                if prev is not None and prev.word in ("exists",) and prev2 is not None and prev2.word == "not":
                    continue
                end = matching_paren(st, i + 1)
                after = st[end + 1] if end + 1 < len(st) else None
                after2 = st[end + 2] if end + 2 < len(st) else None
                if after is not None and after.word == "as" and after2 is not None and (
                        after2.text == "(" or after2.word in ("materialized", "not")):
                    continue          # WITH name(col, ...) AS (...)
                if in_column_def(st, i):
                    continue          # a column's type: name varchar(100)
                self.report(t.pos, name)
                continue

            if t.kind == "ident" and w in LIKE_WORDS:
                self.report(t.pos, f"{t.text.upper()} (write OPERATOR(pg_catalog.~~) and friends)")
                continue

            if t.kind == "op":
                op = t.text
                if op == "=>":
                    continue
                if op == "=" and prev is not None:
                    if in_set_clause and is_assignment_target(st, i):
                        continue
                    if in_raise_using and prev.word in RAISE_OPTIONS:
                        continue
                    if prev.word == "search_path" or (prev2 is not None and prev2.word == "set"):
                        continue
                if op == "*" and not is_operand(prev):
                    continue      # SELECT *, count(*), t.*
                if op in ("-", "+") and not is_operand(prev) and nxt is not None and nxt.kind == "number":
                    continue      # a negative number (a constant, no operator is looked up)
                self.report(t.pos, op)


def is_operand(tok):
    if tok is None:
        return False
    if tok.kind in ("number", "string", "estring", "qident", "param", "dollar"):
        return True
    if tok.kind == "punct" and tok.text in (")", "]"):
        return True
    if tok.kind in ("ident", "extschema"):
        return tok.word in OPERAND_WORDS or tok.word not in KEYWORDS
    return False


def is_assignment_target(st, i):
    """st[i] is '=': is it `SET col =` or `, col =` (col possibly t.col or a (list))?"""
    j = i - 1
    if st[j].text == ")":
        depth = 0
        while j >= 0:
            if st[j].text == ")":
                depth += 1
            elif st[j].text == "(":
                depth -= 1
                if depth == 0:
                    break
            j -= 1
        j -= 1
    else:
        while j >= 2 and st[j - 1].text == "." and st[j - 2].kind in ("ident", "qident", "extschema"):
            j -= 2
        j -= 1
    return j >= 0 and (st[j].word == "set" or st[j].text == ",")


def is_call_context(st, i, index_or_trigger):
    """Whether schema.name( at i is a call (not CREATE TABLE schema.t (...) and such)."""
    prev = st[i - 1] if i > 0 else None
    if prev is not None and (prev.word in DEFINES or prev.kind == "cast"):
        return False
    if prev is not None and prev.word == "on" and index_or_trigger:
        return False
    return True


def in_column_def(st, i):
    """st[i] is a type in a column list of CREATE TABLE / ADD COLUMN / RETURNS TABLE / a
    function's arguments: the word before it is a column name that follows ( or ,."""
    prev = st[i - 1] if i > 0 else None
    prev2 = st[i - 2] if i > 1 else None
    if prev is None or prev.kind not in ("ident", "qident") or prev.word in KEYWORDS:
        return False
    if prev2 is not None and (prev2.text in ("(", ",") or prev2.word in ("column", "add")):
        # "(a b(" only reads as a column definition inside a definition's parentheses.
        return inside_definition(st, i)
    return False


def inside_definition(st, i):
    depth = 0
    for j in range(i - 1, -1, -1):
        if st[j].text == ")":
            depth += 1
        elif st[j].text == "(":
            if depth == 0:
                before = st[j - 1] if j > 0 else None
                before2 = st[j - 2] if j > 1 else None
                if before is not None and before.word == "table":
                    return True      # RETURNS TABLE (
                if before2 is not None and before2.word in ("table", "function", "procedure"):
                    return True      # CREATE TABLE t (, CREATE FUNCTION f(
                if before is not None and before.kind == "qident" and before2 is not None and \
                        before2.word in ("function", "procedure"):
                    return True
                return False
            depth -= 1
    # ALTER TABLE ... ADD COLUMN name type(
    return any(t.word == "alter" for t in st[:2])


def check_file(path, display):
    text = open(path, encoding="utf-8").read()
    c = Checker(display, text)
    c.check_code(text, 0)
    return [(display, line, what) for line, what in sorted(set(c.findings))]


def main(argv):
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    files = argv[1:] or install_and_upgrade_files(root)
    findings = []
    for f in files:
        display = os.path.relpath(f, root) if os.path.isabs(f) else f
        try:
            findings += check_file(f, display)
        except (OSError, SyntaxError) as e:
            findings.append((display, 0, f"cannot check: {e}"))
    for path, line, what in findings:
        print(f"{path}:{line}: {what}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
