package main

// scene is one step of the run: SQL the docs need as background, or a
// pgwiden command whose output goes to the block named Sample.
type scene struct {
	// SQL, when set, runs in the sample database; nothing is shown.
	SQL string
	// Sample names the block the command's output fills; "" runs the
	// command without showing it (a step the samples need as background).
	Sample string
	// Args are pgwiden's arguments after the global --dsn and --log-format.
	Args []string
	// Exit is the exit status the command must end with.
	Exit int
	// Keep shortens the block to its first Keep lines and a "..." line.
	Keep int
	// Stdout shows only stdout, as Markdown (rehearse's report); the
	// default is stdout and stderr interleaved, as a terminal shows them.
	Stdout bool
	// Background starts the command and goes on to the next scene once its
	// output contains Until; a later Join scene waits for it to end and
	// checks its Exit. One command runs in the background at a time.
	Background bool
	Until      string
	Join       bool
	// Interrupt sends SIGINT, what Ctrl-C sends, to the background command.
	Interrupt bool
	// Touch and Remove create and delete a file in the run's working
	// directory, where every command runs (a --postpone-file).
	Touch, Remove string
}

var (
	tagsID     = []string{"--table", "tags", "--column", "id"}
	taggingsID = []string{"--table", "taggings", "--column", "id"}
)

// cmd builds a command's arguments: the command, then the target, then
// its own flags.
func cmd(name string, target []string, flags ...string) []string {
	return append(append([]string{name}, target...), flags...)
}

// scenes is the story the samples tell, in the order it runs. The demo's
// incident comes first (tags.id at 93% of int4); migration 1 of tags.id is
// rolled back after its swap, migration 2 goes through to cleanup.
func scenes() []scene {
	return []scene{
		{Sample: "help", Args: []string{"--help"}},
		{Sample: "audit-help", Args: []string{"audit", "--help"}},
		{Sample: "audit", Args: []string{"audit"}, Exit: 3},
		{Args: []string{"audit", "--record"}, Exit: 3},
		{SQL: "UPDATE pgwiden.audit_history SET taken_at = taken_at - interval '1 day';" +
			" SELECT setval('tags_id_seq', nextval('tags_id_seq') + 10000000)"},
		{Sample: "audit-history", Args: []string{"audit"}, Exit: 3},
		{Sample: "plan-help", Args: []string{"plan", "--help"}},
		{Sample: "plan-tags", Args: cmd("plan", tagsID), Keep: 174},
		{Sample: "plan-not-found", Args: []string{"plan", "--table", "Tags", "--column", "id"}, Exit: 2},
		{Sample: "prepare-dry-run", Args: cmd("prepare", tagsID, "--dry-run")},

		// Migration 1: prepare, the checks around it, pause and throttle,
		// then a rollback after the swap.
		{Args: cmd("prepare", tagsID)},
		{Sample: "prepare-again", Args: cmd("prepare", tagsID)},
		{Sample: "prepare-dry-run-done", Args: cmd("prepare", tagsID, "--dry-run"), Keep: 10},
		{Sample: "cutover-too-early", Args: cmd("cutover", tagsID), Exit: 2},
		{Sample: "plan-in-migration", Args: cmd("plan", taggingsID), Exit: 4, Keep: 12},
		{Sample: "pause", Args: cmd("pause", tagsID)},
		{Sample: "status-paused", Args: []string{"status"}},
		{Sample: "throttle", Args: cmd("throttle", tagsID, "--max-rate", "5000")},
		{Sample: "resume", Args: cmd("resume", tagsID)},
		{Sample: "status-throttled", Args: []string{"status"}},
		{Sample: "throttle-clear", Args: cmd("throttle", tagsID, "--max-rate", "0")},
		// A backfill stopped with Ctrl-C, then resumed.
		{Sample: "backfill-interrupted", Args: cmd("backfill", tagsID, "--max-rate", "1000", "--progress-interval", "1s"),
			Background: true, Until: "step=backfill/copy/public.taggings", Exit: 1},
		{Interrupt: true},
		{Join: true},
		{Sample: "status-interrupted", Args: []string{"status"}},
		{Sample: "backfill-resumed", Args: cmd("backfill", tagsID)},
		{Sample: "cutover-dry-run", Args: cmd("cutover", tagsID, "--dry-run"), Keep: 40},
		// A write that bypasses the sync trigger (disabled by hand for
		// one transaction): the verification finds it, and the backfill
		// copies it again.
		{SQL: "BEGIN; ALTER TABLE taggings DISABLE TRIGGER zz_pgwiden_sync;" +
			" UPDATE taggings SET tag_id = (SELECT max(id) FROM tags) WHERE id = (SELECT min(id) FROM taggings);" +
			" ALTER TABLE taggings ENABLE ALWAYS TRIGGER zz_pgwiden_sync; COMMIT"},
		{Sample: "cutover-verify-failed", Args: cmd("cutover", tagsID), Exit: 1},
		{Sample: "backfill-recopy", Args: cmd("backfill", tagsID)},
		// A cutover that waits for its postpone file holds the migration:
		// a second process is refused, and status names the holder. When
		// the file goes, a transaction that has read tags keeps the swap
		// from its locks until it gives up; run again, it swaps.
		{Touch: "hold-swap"},
		{Sample: "cutover-postponed", Args: cmd("cutover", tagsID, "--postpone-file", "hold-swap", "--lock-timeout", "500ms", "--max-attempts", "3"),
			Background: true, Until: "swap postponed", Exit: 1},
		{Sample: "busy", Args: cmd("backfill", tagsID), Exit: 5},
		{Sample: "status-running", Args: []string{"status"}},
		{SQL: "BEGIN; SELECT count(*) FROM tags"},
		{Remove: "hold-swap"},
		{Join: true},
		{SQL: "COMMIT"},
		{Sample: "cutover-resumed", Args: cmd("cutover", tagsID)},
		{Sample: "rollback-dry-run", Args: cmd("rollback", tagsID, "--dry-run"), Keep: 30},
		{SQL: "INSERT INTO tags (id, name) VALUES (3000000000, 'beyond int4')"},
		{Sample: "rollback-refused", Args: cmd("rollback", tagsID), Exit: 1},
		{SQL: "DELETE FROM tags WHERE id = 3000000000"},
		{Sample: "rollback-after-swap", Args: cmd("rollback", tagsID)},

		// Migration 2: the five commands of the README, to the end.
		{Sample: "prepare", Args: cmd("prepare", tagsID)},
		{Sample: "backfill", Args: cmd("backfill", tagsID, "--batch-size", "500", "--max-rate", "2000", "--progress-interval", "1s")},
		{Sample: "status", Args: []string{"status"}},
		{Sample: "status-json", Args: []string{"status", "--json"}, Keep: 40},
		{Sample: "cutover", Args: cmd("cutover", tagsID)},
		{Sample: "cleanup-no-yes", Args: cmd("cleanup", tagsID), Exit: 2},
		{Sample: "cleanup", Args: cmd("cleanup", tagsID, "--yes")},
		{Sample: "rollback-done", Args: cmd("rollback", tagsID)},
		{Sample: "audit-after", Args: []string{"audit"}},

		// A rehearsal of the next column, on this database as staging.
		{Sample: "rehearse", Args: cmd("rehearse", taggingsID, "--i-know-this-is-staging", "--load-builtin", "50", "--load-baseline", "1s"), Stdout: true},

		// Blockers: a stored generated column is computed from a column of
		// the closure.
		{SQL: "ALTER TABLE tagging_events ADD COLUMN tagging_bucket int GENERATED ALWAYS AS (tagging_id % 16) STORED"},
		{Sample: "plan-blockers", Args: cmd("plan", taggingsID), Exit: 4, Keep: 14},
		{Sample: "prepare-blocked", Args: cmd("prepare", taggingsID), Exit: 4},
	}
}
