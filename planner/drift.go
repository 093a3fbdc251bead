package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// A migration runs for hours or days, and the application's deploys go on
// meanwhile. Drift compares the live catalog of the closure's tables with
// the snapshot recorded at prepare: what the cutover can rebuild on the new
// column is carried (it re-plans, Replan), what it cannot is refused before
// anything changes, with the object and the fix named.

// DriftKind says what a phase does about one change.
type DriftKind string

// The two answers to a change.
const (
	// DriftCarry: the cutover re-plans and rebuilds the object on the new
	// column, as it does the ones recorded at prepare.
	DriftCarry DriftKind = "carry"
	// DriftRefuse: the phase refuses until the operator makes the fix.
	DriftRefuse DriftKind = "refuse"
)

// DriftChange is one object of the closure's tables that is not as prepare
// recorded it.
type DriftChange struct {
	Kind   DriftKind `json:"kind"`
	Object string    `json:"object"`
	Detail string    `json:"detail"`
	Fix    string    `json:"fix,omitempty"`
}

// String is the operator's line for the change.
func (c DriftChange) String() string {
	s := c.Object + ": " + c.Detail
	if c.Kind == DriftCarry {
		s += " (carried: the cutover rebuilds it on the new column)"
	}
	if c.Fix != "" {
		s += "; fix: " + c.Fix
	}
	return s
}

// DriftCheck is what one drift check compares.
type DriftCheck struct {
	Plan     *Plan
	Recorded *catalog.Snapshot
	Live     *catalog.Snapshot
	// Swapped is true once the swap has committed: each closure column then
	// holds the bigint values and the old one its _pgwiden_old name.
	Swapped bool
}

// Drift lists what changed in the closure's tables since prepare, objects
// the cutover can carry included; before the swap it also looks for
// foreign keys that now reference the closure from outside.
func Drift(c DriftCheck) []DriftChange {
	d := &drift{DriftCheck: c, in: closureSet(c.Plan)}
	for _, tc := range c.Plan.Tables {
		rt, lt := c.Recorded.Table(tc.Table), c.Live.Table(tc.Table)
		if rt == nil {
			continue // not recorded: nothing to compare with
		}
		if lt == nil {
			d.refuse("table "+tc.Table.String(), "dropped or renamed since prepare",
				"give it its name back (ALTER TABLE ... RENAME TO "+catalog.Ident(tc.Table.Name)+")")
			continue
		}
		d.columns(tc, lt)
		d.partitions(rt, lt)
		d.inheritance(rt, lt)
		if !c.Swapped {
			d.objects(rt, lt)
		}
	}
	if !c.Swapped {
		d.syncTriggers()
		d.foreignKeysIn()
		d.views()
	}
	return d.out
}

// Refusals returns the changes a phase must refuse.
func Refusals(changes []DriftChange) []DriftChange {
	var out []DriftChange
	for _, c := range changes {
		if c.Kind == DriftRefuse {
			out = append(out, c)
		}
	}
	return out
}

type drift struct {
	DriftCheck
	in  map[catalog.ColumnRef]bool
	out []DriftChange
}

func (d *drift) refuse(object, detail, fix string) {
	d.out = append(d.out, DriftChange{Kind: DriftRefuse, Object: object, Detail: detail, Fix: fix})
}

func (d *drift) carry(object, detail string) {
	d.out = append(d.out, DriftChange{Kind: DriftCarry, Object: object, Detail: detail})
}

// rollbackFix is the fix when the migration cannot go on as planned.
func (d *drift) rollbackFix() string {
	return "or roll the migration back (" + command("rollback", d.Plan.Target) + ") and plan it again"
}

// closureSet holds every column of the plan's closure.
func closureSet(p *Plan) map[catalog.ColumnRef]bool {
	in := map[catalog.ColumnRef]bool{}
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			in[catalog.ColumnRef{Table: tc.Table, Column: c.Name}] = true
		}
	}
	return in
}

// columns checks that every closure column, and its shadow or old copy,
// is still there under its name with its type.
func (d *drift) columns(tc TableChange, lt *catalog.Table) {
	for _, c := range tc.Columns {
		obj := "column " + tc.Table.String() + "." + c.Name
		cur, other, otherType, otherWhat := c.Type, c.Shadow, "bigint", "shadow column"
		if d.Swapped {
			cur, other, otherType, otherWhat = "bigint", c.Old, c.Type, "old column"
		}
		switch lc := lt.Column(c.Name); {
		case lc == nil:
			d.refuse(obj, "renamed or dropped since prepare",
				"rename it back to "+catalog.Ident(c.Name)+" (ALTER TABLE "+tc.Table.Quoted()+" RENAME COLUMN ... TO "+catalog.Ident(c.Name)+"), "+d.rollbackFix())
		case lc.Type != cur:
			d.refuse(obj, fmt.Sprintf("retyped from %s to %s since prepare", cur, lc.Type),
				"change it back to "+cur+", "+d.rollbackFix())
		}
		obj = otherWhat + " " + tc.Table.String() + "." + other
		switch lc := lt.Column(other); {
		case lc == nil && d.Swapped:
			// Cleanup drops it anyway; a swap back fails on it in its
			// one transaction, changing nothing.
		case lc == nil:
			d.refuse(obj, "dropped by hand: pgwiden cannot go on without it", "roll the migration back ("+command("rollback", d.Plan.Target)+") and start again with prepare")
		case lc.Type != otherType:
			d.refuse(obj, fmt.Sprintf("retyped from %s to %s by hand", otherType, lc.Type), "roll the migration back ("+command("rollback", d.Plan.Target)+") and start again with prepare")
		}
	}
}

// syncTriggers checks the sync trigger of every table prepare put one on
// (its prepare/sync-trigger steps: the table itself, each leaf partition on
// PostgreSQL 12, each inheritance child).
func (d *drift) syncTriggers() {
	for _, s := range d.Plan.Steps {
		if s.Phase != Prepare || !strings.HasPrefix(s.ID, "prepare/sync-trigger/") {
			continue
		}
		if lt := d.Live.Table(s.Table); lt != nil {
			d.syncTrigger(lt)
		}
	}
}

// syncTrigger checks that the trigger copying writes to the shadow columns
// is there and enabled: without it, rows written since are not copied.
func (d *drift) syncTrigger(lt *catalog.Table) {
	obj := "trigger " + SyncTrigger + " on " + lt.Name.String()
	i := slices.IndexFunc(lt.Triggers, func(tr catalog.Trigger) bool { return tr.Name == SyncTrigger })
	switch {
	case i < 0:
		d.refuse(obj, "dropped by hand: rows written since then have no bigint copy", "roll the migration back ("+command("rollback", d.Plan.Target)+") and start again with prepare")
	case lt.Triggers[i].Enabled == "D":
		d.refuse(obj, "disabled by hand: rows written since then may have no bigint copy",
			"ALTER TABLE "+lt.Name.Quoted()+" ENABLE ALWAYS TRIGGER "+catalog.Ident(SyncTrigger)+", then run "+command("backfill", d.Plan.Target)+" (it copies what was missed) and cutover")
	}
}

// partitions refuses a partition attached or detached since prepare: the
// backfill walked the partitions recorded, and the swap changes them all.
func (d *drift) partitions(rt, lt *catalog.Table) {
	for _, p := range lt.Partitions {
		if !slices.Contains(rt.Partitions, p) {
			d.refuse("partition "+p.String(), "attached to "+rt.Name.String()+" since prepare",
				"detach it until the migration is done (ALTER TABLE "+rt.Name.Quoted()+" DETACH PARTITION "+p.Quoted()+"), "+d.rollbackFix())
		}
	}
	for _, p := range rt.Partitions {
		if !slices.Contains(lt.Partitions, p) {
			d.refuse("partition "+p.String(), "detached from "+rt.Name.String()+" since prepare",
				"attach it again (ALTER TABLE "+rt.Name.Quoted()+" ATTACH PARTITION "+p.Quoted()+" FOR VALUES ...), "+d.rollbackFix())
		}
	}
	// Sub-partitions: recorded partitioned partitions are compared too.
	for _, p := range rt.Partitions {
		rp, lp := d.Recorded.Table(p), d.Live.Table(p)
		if rp != nil && lp != nil && rp.Kind == "partitioned" {
			d.partitions(rp, lp)
		}
	}
}

// inheritance refuses classic inheritance changed since prepare, naming
// each child or parent that came or went: a child created since has the
// inherited shadow column but no sync trigger, so its rows would lose
// their values at the swap.
func (d *drift) inheritance(rt, lt *catalog.Table) {
	for _, c := range lt.InheritedBy {
		if !slices.Contains(rt.InheritedBy, c) {
			d.refuse("table "+c.String(), "inheriting from "+lt.Name.String()+" since prepare; the backfill never walked it and it has no sync trigger",
				"drop it or remove it with ALTER TABLE "+c.Quoted()+" NO INHERIT "+lt.Name.Quoted()+" until the migration is done, "+d.rollbackFix())
		}
	}
	for _, c := range rt.InheritedBy {
		if !slices.Contains(lt.InheritedBy, c) {
			d.refuse("table "+c.String(), "no longer inherits from "+lt.Name.String()+" since prepare",
				"restore it with ALTER TABLE "+c.Quoted()+" INHERIT "+lt.Name.Quoted()+", "+d.rollbackFix())
		}
	}
	if !slices.Equal(rt.InheritsFrom, lt.InheritsFrom) {
		d.refuse("table "+lt.Name.String(), "its parents changed since prepare (INHERIT / NO INHERIT)",
			"restore the inheritance as it was, "+d.rollbackFix())
	}
}

// ownObject reports whether a column, index, constraint or trigger is one
// of pgwiden's: they all carry one of its suffixes (names.go), or a name
// the server derived from such a name (PostgreSQL 18 names the NOT NULL
// constraint of "id_pgwiden_new" "t_id_pgwiden_new_not_null").
func ownObject(name string) bool {
	if name == SyncTrigger {
		return true
	}
	for _, suffix := range []string{"_pgwiden_new", "_pgwiden_old", "_pgwiden_back", "_pgwiden_nn"} {
		if strings.Contains(name, suffix) {
			return true
		}
	}
	return false
}

// command is the pgwiden command line for phase on target t.
func command(phase string, t Target) string {
	return fmt.Sprintf("pgwiden %s --schema %s --table %s --column %s", phase, shellWord(t.Table.Schema), shellWord(t.Table.Name), shellWord(t.Column))
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return r != '_' && r != '.' && r != '-' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
