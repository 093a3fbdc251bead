-- Classic inheritance, the partitioning of databases older than
-- PostgreSQL 10: rows in the parent and in both children, a child with a
-- key of its own and one with none (walked by ctid), a CHECK inherited from
-- the parent, a foreign key to a child's key and a view over the parent.
CREATE TABLE measurement (
    id serial PRIMARY KEY,
    city_id integer NOT NULL,
    note text,
    CONSTRAINT measurement_id_positive CHECK (id > 0)
);
CREATE TABLE measurement_2023 (CONSTRAINT measurement_2023_city CHECK (city_id < 1000)) INHERITS (measurement);
ALTER TABLE measurement_2023 ADD PRIMARY KEY (id);
CREATE TABLE measurement_2024 () INHERITS (measurement);
CREATE INDEX measurement_2024_id ON measurement_2024 (id DESC);
CREATE TABLE reading (
    reading_id serial PRIMARY KEY,
    measurement_id integer REFERENCES measurement_2023 (id) ON DELETE CASCADE,
    note text
);
CREATE VIEW measurement_cities AS SELECT id, city_id FROM measurement WHERE city_id > 10;

INSERT INTO measurement (city_id, note) SELECT m % 500, 'm' || m FROM generate_series(1, 800) m;
INSERT INTO measurement_2023 (city_id, note) SELECT m % 500, 'a' || m FROM generate_series(1, 1200) m;
INSERT INTO measurement_2024 (city_id, note) SELECT m % 500, 'b' || m FROM generate_series(1, 1200) m;
INSERT INTO reading (measurement_id, note) SELECT id, 'r' || id FROM measurement_2023 WHERE id % 3 = 0;
ANALYZE;
