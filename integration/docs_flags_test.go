package integration

import "flag"

// updateDocs makes the tests that run the commands shown in docs/ rewrite
// the sample output there from this run, instead of comparing it.
var updateDocs = flag.Bool("update-docs", false, "rewrite the sample output in docs/*.md from this run")
