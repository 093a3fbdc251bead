-- target: "Odd Schema"."Weird ""Quoted"" Table"."Id"
-- Mixed case, spaces, quotes and a percent sign must all come out quoted.
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Weird ""Quoted"" Table" ("Id" serial PRIMARY KEY, "Name" text);
CREATE TABLE "Odd Schema"."Child 100%" (
  "Child Id" int PRIMARY KEY,
  "Parent Id" int REFERENCES "Odd Schema"."Weird ""Quoted"" Table"("Id")
);
CREATE INDEX "Idx With ""Quotes""" ON "Odd Schema"."Child 100%" (("Parent Id" + 1)) WHERE "Parent Id" > 0;
-- What follows the columns, with names and texts that need quoting too.
DO $$
BEGIN
  CREATE ROLE "pgwiden fx ""odd"" role";
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
COMMENT ON COLUMN "Odd Schema"."Child 100%"."Parent Id" IS 'it''s 100% "quoted"';
ALTER TABLE "Odd Schema"."Child 100%" ALTER COLUMN "Parent Id" SET STATISTICS 250, ALTER COLUMN "Parent Id" SET (n_distinct = -0.25);
CREATE STATISTICS "Odd Schema"."Stats ""On"" Child" (ndistinct) ON "Child Id", "Parent Id" FROM "Odd Schema"."Child 100%";
GRANT SELECT ("Id") ON "Odd Schema"."Weird ""Quoted"" Table" TO "pgwiden fx ""odd"" role";
