-- The shapes of the pagila sample database, written for pgwiden's tests:
-- payment is partitioned by range with its foreign keys declared on each
-- partition (one partition has none), and indexes of its own per partition;
-- customer_event is partitioned by list with a default partition and a
-- sub-partitioned partition, its key declared on the parent; last_update
-- triggers; views over the keys. Every table has a note column (no
-- constraint) by which the test tells rows apart.
CREATE FUNCTION last_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_update = CURRENT_TIMESTAMP;
    RETURN NEW;
END $$;

CREATE TABLE customer (
    customer_id serial PRIMARY KEY,
    store_id smallint NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    active boolean DEFAULT true NOT NULL,
    last_update timestamptz DEFAULT now() NOT NULL,
    note text
);
CREATE INDEX idx_last_name ON customer (last_name);
CREATE TRIGGER last_updated BEFORE UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION last_updated();

CREATE TABLE rental (
    rental_id serial PRIMARY KEY,
    rental_date timestamptz NOT NULL,
    inventory_id integer NOT NULL,
    customer_id integer NOT NULL REFERENCES customer ON UPDATE CASCADE ON DELETE RESTRICT,
    return_date timestamptz,
    last_update timestamptz DEFAULT now() NOT NULL,
    note text
);
CREATE UNIQUE INDEX idx_unq_rental_rental_date_inventory_id_customer_id ON rental (rental_date, inventory_id, customer_id);
CREATE TRIGGER last_updated BEFORE UPDATE ON rental FOR EACH ROW EXECUTE FUNCTION last_updated();

CREATE TABLE payment (
    payment_id serial NOT NULL,
    customer_id integer NOT NULL,
    staff_id smallint NOT NULL,
    rental_id integer NOT NULL,
    amount numeric(5,2) NOT NULL,
    payment_date timestamptz NOT NULL,
    note text
) PARTITION BY RANGE (payment_date);
CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
CREATE TABLE payment_p2022_03 PARTITION OF payment FOR VALUES FROM ('2022-03-01') TO ('2022-04-01');
CREATE TABLE payment_p2022_04 PARTITION OF payment FOR VALUES FROM ('2022-04-01') TO ('2022-05-01');
DO $$
DECLARE p text;
BEGIN
    FOREACH p IN ARRAY ARRAY['payment_p2022_01', 'payment_p2022_02', 'payment_p2022_03'] LOOP
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (customer_id) REFERENCES customer(customer_id)', p, p || '_customer_id_fkey');
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (rental_id) REFERENCES rental(rental_id)', p, p || '_rental_id_fkey');
        EXECUTE format('CREATE INDEX %I ON %I (customer_id)', 'idx_fk_' || p || '_customer_id', p);
        EXECUTE format('CREATE INDEX %I ON %I (customer_id, payment_date DESC) WHERE amount > 0', p || '_customer_id_idx', p);
    END LOOP;
END $$;
-- payment_p2022_04 has no key of its own: its customer_id still widens with
-- its siblings'.

CREATE TABLE customer_event (
    customer_id integer NOT NULL REFERENCES customer,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    note text
) PARTITION BY LIST (kind);
CREATE TABLE customer_event_visit PARTITION OF customer_event FOR VALUES IN ('visit') PARTITION BY RANGE (at);
CREATE TABLE customer_event_visit_2022 PARTITION OF customer_event_visit FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE customer_event_visit_later PARTITION OF customer_event_visit FOR VALUES FROM ('2023-01-01') TO (MAXVALUE);
CREATE TABLE customer_event_other PARTITION OF customer_event DEFAULT;
CREATE INDEX customer_event_customer_id_idx ON customer_event (customer_id);

CREATE VIEW customer_list AS
SELECT cu.customer_id AS id, cu.first_name || ' ' || cu.last_name AS name, cu.active
FROM customer cu;

CREATE VIEW customer_payments AS
SELECT p.customer_id, count(*) AS payments, sum(p.amount) AS total
FROM payment p GROUP BY p.customer_id;

INSERT INTO customer (store_id, first_name, last_name, note)
SELECT 1 + c % 2, 'first' || c, 'last' || c, 'c' || c FROM generate_series(1, 300) c;
INSERT INTO rental (rental_date, inventory_id, customer_id, note)
SELECT '2022-01-01'::timestamptz + r * interval '1 hour', r % 50, 1 + r % 300, 'r' || r FROM generate_series(1, 1500) r;
INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date, note)
SELECT 1 + p % 300, 1, 1 + p % 1500, (p % 13) - 2, '2022-01-01'::timestamptz + (p % 119) * interval '1 day' + p * interval '1 s', 'p' || p
FROM generate_series(1, 3000) p;
INSERT INTO customer_event (customer_id, kind, at, note)
SELECT 1 + e % 300, (ARRAY['visit', 'call', 'mail'])[1 + e % 3], '2022-06-01'::timestamptz + e * interval '7 hours', 'e' || e
FROM generate_series(1, 1500) e;
ANALYZE;
