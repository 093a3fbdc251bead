package planner

import (
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// Need is one thing a step needs from the server: a privilege, a setting,
// a restriction of an extension. The migrator checks the needs of every
// step a phase will run before the phase changes anything, so a phase
// that cannot complete does not start (migrator.PreflightError).
type Need struct {
	// What the server must allow, e.g. "ownership of table public.items".
	What string `json:"what"`
	// Check is a read-only query returning one boolean: true when allowed.
	Check string `json:"check"`
	Args  []any  `json:"args,omitempty"`
	// Fix is the operator's way out.
	Fix string `json:"fix"`
}

// Queries of the needs. A relation that does not exist passes: a step on
// it is skipped by its probe, or fails on its own.
const (
	needOwner = `SELECT COALESCE((SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass($1)), true)`
	needWrite = `SELECT COALESCE((SELECT has_table_privilege(oid, 'SELECT, UPDATE') FROM pg_class WHERE oid = to_regclass($1)), true)`
	// pgwiden's schema: CREATE on it, or on the database while it does not
	// exist yet.
	needSchema = `SELECT CASE WHEN to_regnamespace($1) IS NULL THEN has_database_privilege(current_database(), 'CREATE')
  ELSE has_schema_privilege($1, 'CREATE') END`
	needPrimary = `SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'`
)

// PhaseSteps returns the plan's steps of one phase, in order.
func (p *Plan) PhaseSteps(ph Phase) []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Phase == ph {
			out = append(out, s)
		}
	}
	return out
}

// PhaseNeeds returns, without duplicates and in step order, what the
// given steps need. Every phase writes, so the first need is a primary
// that accepts writes.
func (p *Plan) PhaseNeeds(steps []Step) []Need {
	needs := []Need{{What: "a server that accepts writes (not a standby, not read-only)", Check: needPrimary,
		Fix: "connect to the primary, with default_transaction_read_only off"}}
	seen := map[string]bool{}
	for _, s := range steps {
		for _, n := range p.stepNeeds(s) {
			if k := n.What; !seen[k] {
				seen[k] = true
				needs = append(needs, n)
			}
		}
	}
	return needs
}

// stepNeeds is what one step needs. Altering a table or a sequence, and
// creating a trigger, an index or a constraint on a table, need its
// ownership (or membership in its owner's role); the backfill and the
// verification read and update rows.
func (p *Plan) stepNeeds(s Step) []Need {
	kind, obj := splitID(s.ID)
	switch {
	case s.During != "":
		// A companion step (a VACUUM between batches, the drop of an
		// INVALID index leftover) runs inside another step; a VACUUM the
		// role may not run is logged and the walk goes on.
		return nil
	case s.Batch != nil:
		return []Need{{What: "SELECT and UPDATE on table " + s.Table.String(), Check: needWrite, Args: []any{s.Table.Quoted()},
			Fix: "GRANT SELECT, UPDATE ON " + s.Table.Quoted() + " TO the role pgwiden connects as, or connect as its owner"}}
	case kind == "prepare/state-schema", kind == "prepare/sync-function":
		return []Need{{What: "CREATE on schema " + StateSchema + " (on the database while it does not exist)", Check: needSchema,
			Args: []any{StateSchema},
			Fix:  "GRANT CREATE ON DATABASE (or, once it exists, ON SCHEMA " + StateSchema + ") TO the role pgwiden connects as"}}
	case kind == "prepare/new-sequence":
		schema := s.Table.Schema
		return []Need{{What: "CREATE on schema " + schema + " (the new sequence of a Citus table)", Check: `SELECT has_schema_privilege($1, 'CREATE')`,
			Args: []any{schema}, Fix: "GRANT CREATE ON SCHEMA " + catalog.Ident(schema) + " TO the role pgwiden connects as"}}
	case kind == "prepare/widen-sequence", kind == "rollback/narrow-sequence":
		for _, sc := range p.Sequences {
			if sc.Sequence.String() == obj {
				return []Need{ownership("sequence", sc.Sequence)}
			}
		}
		return nil
	case s.Table != (catalog.QName{}):
		return p.tableOwnership(s.Table)
	}
	// The swaps and the check before cleanup span every table.
	var needs []Need
	for _, t := range p.Tables {
		needs = append(needs, p.tableOwnership(t.Table)...)
	}
	for _, sc := range p.Sequences {
		needs = append(needs, ownership("sequence", sc.Sequence))
	}
	return needs
}

// tableOwnership needs the table's ownership, and a partitioned table's
// of each of its leaves too: ALTER TABLE checks every partition it
// recurses to.
func (p *Plan) tableOwnership(t catalog.QName) []Need {
	needs := []Need{ownership("table", t)}
	for _, tc := range p.Tables {
		if tc.Table == t {
			for _, l := range tc.Leaves {
				needs = append(needs, ownership("table", l))
			}
		}
	}
	return needs
}

func ownership(kind string, q catalog.QName) Need {
	return Need{What: "ownership of " + kind + " " + q.String(), Check: needOwner, Args: []any{q.Quoted()},
		Fix: "connect as the owner of " + q.Quoted() + " (or a member of its role), or ALTER " + strings.ToUpper(kind) + " " + q.Quoted() + " OWNER TO the role pgwiden connects as"}
}
