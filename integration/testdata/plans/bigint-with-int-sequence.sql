-- target: public.orders.id
-- Already bigint, but fed by a sequence typed integer: it stops at
-- 2147483647 anyway. The plan only widens the sequence.
CREATE SEQUENCE orders_id_seq AS integer;
CREATE TABLE orders (id bigint PRIMARY KEY DEFAULT nextval('orders_id_seq'));
ALTER SEQUENCE orders_id_seq OWNED BY orders.id;
