package planner

import (
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
)

// The statements pgwiden renders differently for Citus tables, because
// Citus refuses or rejects the PostgreSQL ones (checked on Citus 13.2):
//   - CREATE TRIGGER, ALTER TABLE ... ENABLE TRIGGER and DROP TRIGGER on a
//     distributed or reference table need citus.enable_unsafe_triggers in
//     the session; Citus then propagates the trigger to every shard and
//     keeps it in the table's metadata, so shards created later by a move or
//     a split get it too. The sync trigger only sets NEW's own column and
//     touches no other table: the case that setting is safe for.
//   - ALTER SEQUENCE on a sequence Citus propagates is refused (AS bigint,
//     OWNED BY): the column gets a new bigint sequence instead, created at
//     prepare, set under the swap's lock, renamed to the old name at
//     cleanup once the old one has gone with its column.
//   - ALTER TABLE ... RENAME CONSTRAINT is refused: the foreign keys are
//     re-added in the swap NOT VALID and validated right after it, as for
//     a key referencing a partitioned table.
//   - SET DEFAULT combined with other subcommands in one ALTER TABLE is
//     refused: one subcommand per statement.
//   - a function created after DDL that Citus ran over several connections
//     per node in the same transaction is refused: the swap runs its DDL
//     sequentially (citus.multi_shard_modify_mode).

// unsafeTriggers is the setting a trigger statement on a Citus table runs
// after, in its step's transaction; "" for any other table.
func (b *builder) unsafeTriggers(t catalog.QName) string {
	if !b.isCitus(t) {
		return ""
	}
	return "SET LOCAL citus.enable_unsafe_triggers = on;\n"
}

// isCitus reports whether t is in Citus's metadata.
func (b *builder) isCitus(t catalog.QName) bool {
	tab := b.snap.Table(t)
	return tab != nil && tab.Citus != nil
}

// citusClosure reports whether any table the swap changes is a Citus one.
func (b *builder) citusClosure() bool {
	for _, w := range b.work {
		if w.t.Citus != nil {
			return true
		}
	}
	for _, fk := range b.fks {
		if fk.table.Citus != nil {
			return true
		}
	}
	return false
}

// citusSequence returns the sequence change feeding column col of t when
// Citus propagates that sequence (it cannot be altered), nil otherwise.
func (b *builder) citusSequence(t catalog.QName, col string) *SequenceChange {
	for i, sc := range b.seqs {
		if sc.Feeds.Table != t || sc.Feeds.Column != col {
			continue
		}
		if s := b.snap.Sequence(sc.Sequence); s != nil && s.CitusDistributed && !sc.Identity {
			return &b.seqs[i]
		}
	}
	return nil
}

// bigSequence names the bigint sequence that replaces seq.
func bigSequence(seq catalog.QName) catalog.QName {
	return catalog.QName{Schema: seq.Schema, Name: newObject(seq.Name)}
}

// newSequenceStep creates, at prepare, the bigint sequence that replaces
// a sequence Citus propagates. Nothing uses it before the swap.
func (b *builder) newSequenceStep(sc SequenceChange) {
	big := bigSequence(sc.Sequence)
	b.add(Step{ID: "prepare/new-sequence/" + sc.Sequence.String(), Phase: Prepare, Table: sc.Feeds.Table,
		SQL:  "CREATE SEQUENCE " + big.Quoted() + " AS bigint",
		Lock: NoLock, InTx: true, Probe: absent(probeNoRelation), ProbeArgs: []any{big.Quoted()},
		Note: "Citus refuses ALTER SEQUENCE on " + sc.Sequence.String() + ": the swap moves the column's default to this bigint sequence"})
}

// The sequence that takes over a column must hand out keys above every key
// used. Every key drawn from the sequence it replaces is at most that
// sequence's last value, which the swap reads under its lock, where no
// row can be inserted; keys given explicitly are covered by the largest
// key, read just before the swap by a scan of every shard that blocks no
// writes. Reading it in the swap would hold the ACCESS EXCLUSIVE lock for
// that scan (the key is not the first column of any index on a
// distributed table, whose unique indexes start with the distribution
// column). A key given explicitly above the sequence after that read
// would collide with the old sequence just as well: applications that
// draw from a sequence do not do that.

// seqPair returns the sequence giving up the column and the one taking it
// over, in direction d.
func seqPair(sc *SequenceChange, d direction) (from, to catalog.QName) {
	if d == backward {
		return bigSequence(sc.Sequence), sc.Sequence
	}
	return sc.Sequence, bigSequence(sc.Sequence)
}

// sequenceFloorSteps set, before the swap, the sequence taking over each
// column above its largest key and the other sequence's last value.
func (b *builder) sequenceFloorSteps(d direction) {
	phase := Cutover
	if d == backward {
		phase = Unswap
	}
	for _, w := range b.work {
		for _, m := range w.cols {
			sc := b.citusSequence(w.t.Name, m.col.Name)
			if sc == nil {
				continue
			}
			from, to := seqPair(sc, d)
			b.add(Step{ID: string(phase) + "/sequence-floor/" + to.String(), Phase: phase, Table: w.t.Name,
				SQL: fmt.Sprintf("SELECT pg_catalog.setval('%s', greatest((SELECT last_value FROM %s), (SELECT max(%s) FROM %s)) + 1, false)",
					sqlQuoteInner(to.Quoted()), from.Quoted(), catalog.Ident(m.col.Name), w.t.Name.Quoted()),
				Lock: AccessShare, InTx: true, Scan: true,
				Note: "reads the largest key on every shard, writes go on; the swap then moves the sequence above the other's last value"})
		}
	}
}

// setSequenceDefault moves, in the swap, the sequence taking over column
// col of t above the last value of the one giving it up, under the lock
// (sequenceFloorSteps set it above the largest key before).
func (b *builder) setSequenceDefault(s *stmts, sc *SequenceChange, d direction) {
	from, to := seqPair(sc, d)
	s.add("SELECT pg_catalog.setval('%s', greatest((SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s), (SELECT last_value FROM %s) + 1), false)",
		sqlQuoteInner(to.Quoted()), to.Quoted(), from.Quoted())
}

// sequenceDefault is the default that draws from the sequence taking over.
func sequenceDefault(sc *SequenceChange, d direction) string {
	_, to := seqPair(sc, d)
	return "nextval('" + sqlQuoteInner(to.Quoted()) + "'::regclass)"
}

// renameSequenceStep gives the new sequence the old one's name at cleanup,
// once dropping the old column has dropped the old sequence it owned.
func (b *builder) renameSequenceStep(t catalog.QName, c *catalog.Column) {
	sc := b.citusSequence(t, c.Name)
	if sc == nil || b.ownedSequence(t, c) == nil {
		return // not dropped with the old column: the new one keeps its name
	}
	big := bigSequence(sc.Sequence)
	b.add(Step{ID: "cleanup/rename-sequence/" + sc.Sequence.String(), Phase: Cleanup, Table: t,
		SQL:  "ALTER SEQUENCE " + big.Quoted() + " RENAME TO " + catalog.Ident(sc.Sequence.Name),
		Lock: AccessExclusive, InTx: true, Probe: probeNoRelation, ProbeArgs: []any{big.Quoted()},
		Note: "the old sequence went with the old column: the new one takes its name"})
}

// fkInSwap reports whether foreign key fk is re-added inside the swap, NOT
// VALID, and validated after it, rather than built as a copy beforehand
// and renamed in the swap: when it references a partitioned table's key,
// or when it is on a Citus table (Citus refuses RENAME CONSTRAINT there).
func (b *builder) fkInSwap(fk fkRef) bool {
	return b.refPartitioned(fk) || fk.table.Citus != nil
}

// splitForCitus marks every step of a migration touching Citus tables to
// run statement by statement (Step.EachStatement).
func (b *builder) splitForCitus() {
	if !b.citusClosure() {
		return
	}
	for i := range b.plan.Steps {
		if b.plan.Steps[i].InTx && b.plan.Steps[i].Batch == nil {
			b.plan.Steps[i].EachStatement = true
		}
	}
}

// checkCitusSequences refuses, when the column is bigint already and only
// its sequence is narrow, a sequence Citus propagates: there is no swap to
// move the default to a new sequence in, and ALTER SEQUENCE is refused.
func (b *builder) checkCitusSequences() {
	for _, sc := range b.seqs {
		if s := b.snap.Sequence(sc.Sequence); s != nil && s.CitusDistributed {
			b.finds.block("citus-sequence", sc.Sequence.String(),
				"Citus propagates this sequence to its nodes and refuses ALTER SEQUENCE on it (\"Altering a distributed sequence is currently not supported\")",
				fmt.Sprintf("give %s a new bigint sequence set above its largest value, in one transaction: CREATE SEQUENCE ... AS bigint; SELECT setval(...); ALTER TABLE %s ALTER COLUMN %s SET DEFAULT nextval(...); see docs/citus.md",
					Target{Table: sc.Feeds.Table, Column: sc.Feeds.Column}, sc.Feeds.Table.Quoted(), catalog.Ident(sc.Feeds.Column)))
		}
	}
}

// retiredSequences are the sequences, replaced in the swap on a Citus
// table, that the old columns of w own: cleanup drops them with them.
func (b *builder) retiredSequences(w *tableWork) []catalog.QName {
	var out []catalog.QName
	for _, m := range w.cols {
		if sc := b.citusSequence(w.t.Name, m.col.Name); sc != nil && b.ownedSequence(w.t.Name, m.col) != nil {
			out = append(out, sc.Sequence)
		}
	}
	return out
}

// orphanedShardsStep drops, before cleanup or rollback drops the sync
// functions, the shards a shard move or split left behind for Citus's
// deferred cleanup: they still carry the sync trigger, which would keep
// DROP FUNCTION from succeeding. Citus would drop them itself, later.
func (b *builder) orphanedShardsStep(phase Phase) {
	if !b.citusClosure() {
		return
	}
	b.add(Step{ID: string(phase) + "/orphaned-shards", Phase: phase, SQL: "CALL citus_cleanup_orphaned_resources()", Lock: NoLock, InTx: false,
		Note: "drops the old shards a shard move or split left for Citus's deferred cleanup, and their copies of the sync trigger"})
}
