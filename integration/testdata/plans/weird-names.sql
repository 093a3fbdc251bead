-- target: "Odd Schema"."Weird ""Quoted"" Table"."Id"
-- Mixed case, spaces, quotes and a percent sign must all come out quoted.
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Weird ""Quoted"" Table" ("Id" serial PRIMARY KEY, "Name" text);
CREATE TABLE "Odd Schema"."Child 100%" (
  "Child Id" int PRIMARY KEY,
  "Parent Id" int REFERENCES "Odd Schema"."Weird ""Quoted"" Table"("Id")
);
CREATE INDEX "Idx With ""Quotes""" ON "Odd Schema"."Child 100%" (("Parent Id" + 1)) WHERE "Parent Id" > 0;
