-- The reference customer-management schema that the Phase 3B plan tests.
--
-- Installed by perf_install_schema(); NOT part of the extension (DROP EXTENSION never
-- drops customer data). The installer runs this file only when none of its tables exist
-- in the target schema; when all exist it checks their columns and changes nothing;
-- a partial set is refused (see src/api/schema.rs). "-- @section" lines are signposts.
-- @schema@, @trgm@ and @tenant@ are replaced with quoted identifiers of the target
-- schema, of pg_trgm's schema and of the schema owner's tenant role (src/sut/tenant.rs);
-- every name is qualified, so nothing depends on search_path.
--
-- Tenant rule (all tenant tables): a row is visible when its company_id equals
-- current_setting('app.current_company_id'); unset means no rows. Customers also hide
-- soft-deleted rows (deleted_at IS NOT NULL) from tenants.

-- @section companies
CREATE TABLE @schema@.companies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE @schema@.companies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON @schema@.companies
    USING (id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT ON @schema@.companies TO @tenant@;

-- @section users
CREATE TABLE @schema@.users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text NOT NULL,
    company_id  uuid NOT NULL REFERENCES @schema@.companies(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Referenced with its company, as customers are (below).
    UNIQUE (id, company_id)
);
CREATE INDEX idx_users_company ON @schema@.users (company_id);
ALTER TABLE @schema@.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON @schema@.users
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT ON @schema@.users TO @tenant@;

-- @section customers
CREATE TABLE @schema@.customers (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id          uuid NOT NULL REFERENCES @schema@.companies(id) ON DELETE CASCADE,
    customer_name       text NOT NULL,
    customer_email      text,
    customer_phone      text,
    customer_address    text,
    customer_notes      text,
    status              text NOT NULL DEFAULT 'active',
    lifecycle_stage     text NOT NULL DEFAULT 'prospect'
                        CHECK (lifecycle_stage IN ('prospect', 'lead', 'customer', 'churned')),
    tags                text[] NOT NULL DEFAULT '{}',
    source              text NOT NULL DEFAULT 'manual',
    created_by_user_id  uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    -- What the tables below reference: a customer together with its company, so that a
    -- row of one tenant cannot name another tenant's customer (a foreign key is checked
    -- by the table's owner, past row-level security). id leads: the index serves the
    -- key checks and leaves the plans of the company-filtered queries as they were.
    UNIQUE (id, company_id),
    FOREIGN KEY (company_id, created_by_user_id) REFERENCES @schema@.users (company_id, id)
        ON DELETE SET NULL (created_by_user_id)
);
-- The plan's partial index (test 4.2); also serves the list query (1.1, 5.2): newest first per company.
CREATE INDEX idx_customers_not_deleted ON @schema@.customers (company_id, created_at DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX idx_customers_email ON @schema@.customers (company_id, customer_email);
-- Fuzzy search (2.1). Not usable under RLS for non-LEAKPROOF operators: see docs/plan-corrections.md.
CREATE INDEX idx_customers_name_trgm ON @schema@.customers USING gin (customer_name @trgm@.gin_trgm_ops);
CREATE INDEX idx_customers_created_by ON @schema@.customers (created_by_user_id);
ALTER TABLE @schema@.customers ENABLE ROW LEVEL SECURITY;
-- Tenants read only their live customers; they may write their own company's rows.
CREATE POLICY tenant_read ON @schema@.customers FOR SELECT
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid
           AND deleted_at IS NULL);
CREATE POLICY tenant_insert ON @schema@.customers FOR INSERT
    WITH CHECK (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
CREATE POLICY tenant_update ON @schema@.customers FOR UPDATE
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid)
    WITH CHECK (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
CREATE POLICY tenant_delete ON @schema@.customers FOR DELETE
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON @schema@.customers TO @tenant@;

-- @section customer_matching_keys
CREATE TABLE @schema@.customer_matching_keys (
    id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id       uuid NOT NULL,
    company_id        uuid NOT NULL REFERENCES @schema@.companies(id) ON DELETE CASCADE,
    key_type          text NOT NULL CHECK (key_type IN ('name', 'email', 'phone')),
    key_value         text NOT NULL,
    normalized_value  text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, key_type),
    FOREIGN KEY (company_id, customer_id) REFERENCES @schema@.customers (company_id, id) ON DELETE CASCADE
);
-- Serves the auto-sync lookup and the plan's phone search (2.3), which does not filter
-- on the key's company.
CREATE INDEX idx_matching_keys_lookup
    ON @schema@.customer_matching_keys (key_type, normalized_value);
ALTER TABLE @schema@.customer_matching_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON @schema@.customer_matching_keys
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON @schema@.customer_matching_keys TO @tenant@;

-- Key maintenance: customers own their keys. New customers get one key per
-- non-NULL name/email/phone, set-based per statement (bulk inserts pay one INSERT).
CREATE FUNCTION @schema@.customers_keys_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO @schema@.customer_matching_keys (customer_id, company_id, key_type, key_value, normalized_value)
    SELECT n.id, n.company_id, k.key_type, k.key_value, k.normalized_value
    FROM new_rows n
    CROSS JOIN LATERAL (VALUES
        ('name',  n.customer_name,  pg_catalog.lower(n.customer_name)),
        ('email', n.customer_email, pg_catalog.lower(pg_catalog.btrim(n.customer_email))),
        ('phone', n.customer_phone, pg_catalog.regexp_replace(n.customer_phone, '\D', '', 'g'))
    ) AS k(key_type, key_value, normalized_value)
    WHERE k.key_value IS NOT NULL
    ON CONFLICT (customer_id, key_type) DO UPDATE
        SET key_value = EXCLUDED.key_value, normalized_value = EXCLUDED.normalized_value;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER customers_keys_after_insert AFTER INSERT ON @schema@.customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION @schema@.customers_keys_after_insert();

-- Changed name/email/phone: replace that key; a value set to NULL drops its key.
CREATE FUNCTION @schema@.customers_keys_after_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM @schema@.customer_matching_keys k
    WHERE k.customer_id = NEW.id
      AND ((k.key_type = 'name'  AND NEW.customer_name  IS NULL)
        OR (k.key_type = 'email' AND NEW.customer_email IS NULL)
        OR (k.key_type = 'phone' AND NEW.customer_phone IS NULL));
    INSERT INTO @schema@.customer_matching_keys (customer_id, company_id, key_type, key_value, normalized_value)
    SELECT NEW.id, NEW.company_id, k.key_type, k.key_value, k.normalized_value
    FROM (VALUES
        ('name',  NEW.customer_name,  pg_catalog.lower(NEW.customer_name)),
        ('email', NEW.customer_email, pg_catalog.lower(pg_catalog.btrim(NEW.customer_email))),
        ('phone', NEW.customer_phone, pg_catalog.regexp_replace(NEW.customer_phone, '\D', '', 'g'))
    ) AS k(key_type, key_value, normalized_value)
    WHERE k.key_value IS NOT NULL
    ON CONFLICT (customer_id, key_type) DO UPDATE
        SET key_value = EXCLUDED.key_value, normalized_value = EXCLUDED.normalized_value,
            company_id = EXCLUDED.company_id;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER customers_keys_after_update AFTER UPDATE ON @schema@.customers
    FOR EACH ROW
    WHEN (OLD.customer_name  IS DISTINCT FROM NEW.customer_name
       OR OLD.customer_email IS DISTINCT FROM NEW.customer_email
       OR OLD.customer_phone IS DISTINCT FROM NEW.customer_phone
       OR OLD.company_id     IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION @schema@.customers_keys_after_update();

-- A key inserted directly by a client (not by the triggers above, hence depth 0), such
-- as the plan's PL/pgSQL generator does: fill company_id and, when the customer already
-- has a key of that type, update it instead of failing on the unique constraint.
CREATE FUNCTION @schema@.matching_keys_direct_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.company_id IS NULL THEN
        SELECT c.company_id INTO NEW.company_id FROM @schema@.customers c WHERE c.id = NEW.customer_id;
    END IF;
    UPDATE @schema@.customer_matching_keys k
       SET key_value = NEW.key_value, normalized_value = NEW.normalized_value
     WHERE k.customer_id = NEW.customer_id AND k.key_type = NEW.key_type;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER matching_keys_direct_insert BEFORE INSERT ON @schema@.customer_matching_keys
    FOR EACH ROW WHEN (pg_catalog.pg_trigger_depth() = 0)
    EXECUTE FUNCTION @schema@.matching_keys_direct_insert();

-- @section VC Usage
CREATE TABLE @schema@."VC Usage" (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    company_id          uuid NOT NULL REFERENCES @schema@.companies(id) ON DELETE CASCADE,
    user_id             uuid,
    customer_id         uuid,
    customer_name       text,
    customer_email      text,
    customer_phone      text,
    session_id          text,
    interaction_number  integer,
    user_message        text,
    ai_response         text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (company_id, customer_id) REFERENCES @schema@.customers (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, user_id) REFERENCES @schema@.users (company_id, id) ON DELETE SET NULL (user_id)
);
CREATE INDEX idx_vc_usage_customer ON @schema@."VC Usage" (customer_id);
CREATE INDEX idx_vc_usage_company_created ON @schema@."VC Usage" (company_id, created_at DESC);
CREATE INDEX idx_vc_usage_session ON @schema@."VC Usage" (session_id text_pattern_ops);
ALTER TABLE @schema@."VC Usage" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON @schema@."VC Usage"
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON @schema@."VC Usage" TO @tenant@;

-- Auto-sync: a conversation that arrives without customer_id is attached to
-- the company's live customer with the same email (or, when the conversation carries no
-- email, the same phone); otherwise a new customer is created (its keys follow from the
-- customers trigger). A conversation with a new email is a new person even when its phone
-- is known: the plan's bulk test (3.1) reuses the generated customers' phone numbers
-- ('+1555' || LPAD(i, 7, '0')) and expects 100 new customers. An advisory lock per
-- company and identity keeps two concurrent conversations of one new person from
-- creating two customers.
CREATE FUNCTION @schema@.vc_usage_sync_customer() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    v_email text := pg_catalog.lower(pg_catalog.btrim(NEW.customer_email));
    v_phone text := NULLIF(pg_catalog.regexp_replace(NEW.customer_phone, '\D', '', 'g'), '');
    v_type  text;
    v_value text;
BEGIN
    IF v_email IS NOT NULL THEN
        v_type := 'email'; v_value := v_email;
    ELSIF v_phone IS NOT NULL THEN
        v_type := 'phone'; v_value := v_phone;
    ELSIF NEW.customer_name IS NULL THEN
        RETURN NEW;   -- nothing to identify the person by
    END IF;
    IF v_type IS NOT NULL THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
            NEW.company_id::text || '/' || v_type || '/' || v_value, 0));
        SELECT k.customer_id INTO NEW.customer_id
          FROM @schema@.customer_matching_keys k
          JOIN @schema@.customers c ON c.id = k.customer_id AND c.deleted_at IS NULL
         WHERE k.key_type = v_type AND k.normalized_value = v_value AND k.company_id = NEW.company_id
         ORDER BY c.created_at
         LIMIT 1;
    END IF;
    IF NEW.customer_id IS NULL THEN
        INSERT INTO @schema@.customers (company_id, customer_name, customer_email, customer_phone,
                                        source, created_by_user_id)
        VALUES (NEW.company_id,
                coalesce(NEW.customer_name, NEW.customer_email, NEW.customer_phone),
                NEW.customer_email, NEW.customer_phone, 'chat', NEW.user_id)
        RETURNING id INTO NEW.customer_id;
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER vc_usage_sync_customer BEFORE INSERT ON @schema@."VC Usage"
    FOR EACH ROW WHEN (NEW.customer_id IS NULL)
    EXECUTE FUNCTION @schema@.vc_usage_sync_customer();

-- @section customer_events
CREATE TABLE @schema@.customer_events (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id  uuid NOT NULL,
    company_id   uuid NOT NULL REFERENCES @schema@.companies(id) ON DELETE CASCADE,
    event_type   text NOT NULL,
    event_data   jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (company_id, customer_id) REFERENCES @schema@.customers (company_id, id) ON DELETE CASCADE
);
CREATE INDEX idx_customer_events_customer ON @schema@.customer_events (customer_id, created_at DESC);
ALTER TABLE @schema@.customer_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON @schema@.customer_events
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON @schema@.customer_events TO @tenant@;

-- @section customer_conversation_summaries
CREATE TABLE @schema@.customer_conversation_summaries (
    id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id  uuid NOT NULL,
    company_id   uuid NOT NULL REFERENCES @schema@.companies(id) ON DELETE CASCADE,
    session_id   text NOT NULL,
    summary      text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (company_id, customer_id) REFERENCES @schema@.customers (company_id, id) ON DELETE CASCADE
);
CREATE INDEX idx_conversation_summaries_customer ON @schema@.customer_conversation_summaries (customer_id);
ALTER TABLE @schema@.customer_conversation_summaries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON @schema@.customer_conversation_summaries
    USING (company_id = NULLIF(pg_catalog.current_setting('app.current_company_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON @schema@.customer_conversation_summaries TO @tenant@;

-- @section customer_metrics
-- A materialized view cannot carry RLS, so tenants get no privilege on it; the
-- application reads it through the owner (as the plan's queries do).
CREATE MATERIALIZED VIEW @schema@.customer_metrics AS
SELECT c.id                              AS customer_id,
       c.company_id,
       coalesce(v.conversations, 0)      AS total_conversations,
       v.last_conversation_at,
       coalesce(e.events, 0)             AS total_events,
       e.last_event_at,
       pg_catalog.now()                  AS refreshed_at
  FROM @schema@.customers c
  LEFT JOIN (SELECT customer_id, pg_catalog.count(*) AS conversations, pg_catalog.max(created_at) AS last_conversation_at
               FROM @schema@."VC Usage" GROUP BY customer_id) v ON v.customer_id = c.id
  LEFT JOIN (SELECT customer_id, pg_catalog.count(*) AS events, pg_catalog.max(created_at) AS last_event_at
               FROM @schema@.customer_events GROUP BY customer_id) e ON e.customer_id = c.id
WITH DATA;
-- Unique index: allows REFRESH MATERIALIZED VIEW CONCURRENTLY and serves the list join.
CREATE UNIQUE INDEX idx_customer_metrics_customer ON @schema@.customer_metrics (customer_id);
