-- The matching keys of every customer of a bulk load, in one statement: what the
-- reference schema's customers_keys_after_insert trigger writes for the rows of an
-- INSERT (one key per non-NULL name, email and phone, normalized the same way), run
-- once over the whole table, which the bulk load found empty. A test compares its keys
-- with the trigger's on the same rows. @customers@ and @keys@: the quoted relations.
INSERT INTO @keys@ (customer_id, company_id, key_type, key_value, normalized_value)
SELECT n.id, n.company_id, k.key_type, k.key_value, k.normalized_value
  FROM @customers@ n
 CROSS JOIN LATERAL (VALUES
        ('name',  n.customer_name,  pg_catalog.lower(n.customer_name)),
        ('email', n.customer_email, pg_catalog.lower(pg_catalog.btrim(n.customer_email))),
        ('phone', n.customer_phone, pg_catalog.regexp_replace(n.customer_phone, '\D', '', 'g'))
     ) AS k(key_type, key_value, normalized_value)
 WHERE k.key_value IS NOT NULL
