-- Names that only survive if every identifier is quoted: spaces, capitals,
-- embedded double quotes and commas, in a mixed-case schema.
CREATE SCHEMA "Weird Schema";

CREATE TABLE "Weird Schema"."Weird Table" (
    "Id"   serial PRIMARY KEY,
    "Name" text
);

CREATE TABLE "Weird Schema"."Weird ""Quoted"" Table" (
    "Weird Id" integer REFERENCES "Weird Schema"."Weird Table" ("Id"),
    "a,b"      integer,
    CONSTRAINT "Weird, ""Key""" UNIQUE ("a,b", "Weird Id")
);

CREATE VIEW "Weird Schema"."Weird View" AS
    SELECT "Id" AS "The Id" FROM "Weird Schema"."Weird Table";
