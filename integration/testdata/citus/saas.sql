-- The multi-tenant schema of issue 15, on a single-node Citus cluster
-- (the coordinator holds the shards): companies <- campaigns <- ads,
-- hash-distributed by company and colocated; a reference table countries
-- and the table visits that references it (Citus makes it citus-local);
-- notes, a table Citus does not know (local).
-- The file runs as one transaction: Citus then needs one connection per
-- node for the tables tied to the reference table.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
CREATE TABLE companies (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE campaigns (company_id int NOT NULL REFERENCES companies (id), id serial, name text,
  PRIMARY KEY (company_id, id));
CREATE TABLE ads (company_id int NOT NULL, id bigserial, campaign_id int NOT NULL, PRIMARY KEY (company_id, id),
  FOREIGN KEY (company_id, campaign_id) REFERENCES campaigns (company_id, id));
CREATE TABLE countries (id serial PRIMARY KEY, code text UNIQUE);
CREATE TABLE visits (id serial PRIMARY KEY, country_id int REFERENCES countries (id), at timestamptz DEFAULT now());
CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
SELECT create_distributed_table('companies', 'id', shard_count := 4);
SELECT create_distributed_table('campaigns', 'company_id', colocate_with := 'companies');
SELECT create_distributed_table('ads', 'company_id', colocate_with := 'companies');
SELECT create_reference_table('countries');
INSERT INTO companies (name) SELECT 'company ' || g FROM generate_series(1, 20) g;
INSERT INTO campaigns (company_id, name) SELECT 1 + g % 20, 'campaign ' || g FROM generate_series(1, 200) g;
INSERT INTO ads (company_id, campaign_id) SELECT company_id, id FROM campaigns;
INSERT INTO countries (code) SELECT 'k' || g FROM generate_series(1, 10) g;
INSERT INTO visits (country_id) SELECT 1 + g % 10 FROM generate_series(1, 100) g;
INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 500) g;
