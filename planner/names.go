package planner

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/pgwiden/pgwiden/catalog"
)

// Names of pgwiden's own objects. They all come from here so that prepare,
// cutover, cleanup and rollback agree on them, and all stay within 63 bytes
// (catalog.Derive).
const (
	// StateSchema holds pgwiden's state and its trigger functions.
	StateSchema = "pgwiden"
	// SyncTrigger is the name of the trigger that keeps the shadow column
	// in step. BEFORE ROW triggers fire in name order: "zz" makes it run
	// after the application's own triggers, so it copies their final value.
	SyncTrigger = "zz_pgwiden_sync"
)

func shadowName(col string) string { return catalog.Derive(col, "_pgwiden_new") }
func oldName(col string) string    { return catalog.Derive(col, "_pgwiden_old") }
func newObject(name string) string { return catalog.Derive(name, "_pgwiden_new") }
func oldObject(name string) string { return catalog.Derive(name, "_pgwiden_old") }

// backObject names the copy of a key, check or foreign key rebuilt on the
// old column before a rollback swaps it back.
func backObject(name string) string { return catalog.Derive(name, "_pgwiden_back") }

// notNullCheck names the CHECK (col IS NOT NULL) that lets a swap back
// restore NOT NULL on the old column without a scan.
func notNullCheck(col string) string { return catalog.Derive(col, "_pgwiden_nn") }

// syncFunction names the trigger function of one table. The hash of the
// quoted table name keeps "a_b"."c" and "a"."b_c" apart.
func syncFunction(t catalog.QName) catalog.QName {
	sum := sha256.Sum256([]byte(t.Quoted()))
	return catalog.QName{Schema: StateSchema, Name: catalog.Derive("sync_"+t.Name, "_"+hex.EncodeToString(sum[:4]))}
}
