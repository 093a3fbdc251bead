-- target: public.docs.slug
CREATE TABLE docs (slug text PRIMARY KEY);
