package main

import "context"

// step is one scene of the demo: a header line printed as is, then run. Steps
// run in order and share the demo; an error from run stops the demo.
type step struct {
	header string
	run    func(ctx context.Context, d *demo) error
}

// steps is the story the demo tells: the incident's situation, audit and
// plan, then the whole migration while a writer keeps using the tables.
func steps() []step {
	return []step{
		sqlStep("load the schema: accounts, tags, taggings, tagging_events, view tag_usage, updated_at trigger on tags",
			"schema.sql"),
		sqlStep("insert a few thousand rows", "seed.sql"),
		sqlStep("recreate the incident: tags_id_seq moved to 2,000,000,000, then a few new tags", "incident.sql"),
		{header: "==> how much room tags.id has left", run: showHeadroom},

		pgwidenStep(outcomes{
			3: "exit status 3 is expected: audit exits 3 when a column uses more than --threshold of its range, " +
				"as tags.id does here. Run from cron or a monitoring check, this is the page that comes before the incident.",
		}, "audit"),
		pgwidenStep(outcomes{
			4: "exit status 4: plan found blockers to fix before the migration can start; they are listed above.",
		}, "plan", "--table", "tags", "--column", "id"),

		{header: "==> start the application: a writer inserts and updates tags and taggings all through the migration", run: startApp},
		pgwidenStep(nil, "prepare", "--table", "tags", "--column", "id"),
		pgwidenStep(nil, "backfill", "--table", "tags", "--column", "id", "--batch-size", "500", "--max-rate", "2000"),
		pgwidenStep(nil, "status"),
		pgwidenStep(nil, "cutover", "--table", "tags", "--column", "id"),
		pgwidenStep(nil, "cleanup", "--table", "tags", "--column", "id", "--yes"),
		{header: "==> stop the application and check what it saw", run: stopApp},
		{header: "==> the incident cannot happen any more: take tags.id past 2^31-1", run: pastInt4},
	}
}
