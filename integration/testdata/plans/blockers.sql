-- target: public.accounts.id
-- Everything that stops pgwiden: a generated column computed from the key,
-- an RLS policy, an exclusion constraint, a child without a key to walk,
-- classic inheritance; and an int4 FK to a bigint key (a warning).
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE accounts (
  id int PRIMARY KEY,
  id_plus_one int GENERATED ALWAYS AS (id + 1) STORED
);
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_self ON accounts USING (id = current_setting('app.account')::int);
CREATE TABLE bookings (
  account_id int REFERENCES accounts(id),
  during tstzrange,
  EXCLUDE USING gist (account_id WITH =, during WITH &&)
);
CREATE TABLE users (id bigint PRIMARY KEY);
CREATE TABLE account_logs (account_id int REFERENCES accounts(id), user_id int REFERENCES users(id));
CREATE TABLE archived_accounts () INHERITS (accounts);
