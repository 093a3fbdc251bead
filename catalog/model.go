package catalog

// Snapshot is everything pgwiden knows about a database, read once by Load.
// It holds no connection: the planner and audit work on it as plain data, and
// `pgwiden plan --dump-catalog` writes it as JSON so a report from the field
// becomes a test fixture.
type Snapshot struct {
	ServerVersion int        `json:"server_version"` // server_version_num, e.g. 150004
	Database      string     `json:"database"`
	CurrentUser   string     `json:"current_user"`
	Superuser     bool       `json:"superuser"`
	Tables        []Table    `json:"tables"`
	Sequences     []Sequence `json:"sequences"`
	Views         []View     `json:"views"` // views, materialized views and rules that depend on table columns
}

// Table is an ordinary or partitioned table (relkind r or p).
type Table struct {
	Name QName `json:"name"`
	// Kind is "table" or "partitioned".
	Kind string `json:"kind"`
	// Unlogged tables lose their data on a crash; pgwiden warns about them.
	Unlogged bool   `json:"unlogged,omitempty"`
	Owner    string `json:"owner"`
	// Owned is true when the current user may ALTER the table (owner, member
	// of the owning role, or superuser).
	Owned bool `json:"owned"`
	// RowEstimate is pg_class.reltuples (-1 when never analyzed).
	RowEstimate float64 `json:"row_estimate"`
	// TableBytes is the heap size; TotalBytes adds indexes and TOAST.
	TableBytes int64 `json:"table_bytes"`
	TotalBytes int64 `json:"total_bytes"`
	// Pages is pg_class.relpages, counted with RowEstimate by VACUUM and
	// ANALYZE (0 when never counted).
	Pages int64 `json:"pages,omitempty"`
	// AccessMethod is the table access method, "heap" for ordinary tables
	// ("" for partitioned tables and in fixtures older than this field).
	AccessMethod string `json:"access_method,omitempty"`

	Columns     []Column     `json:"columns"`
	Constraints []Constraint `json:"constraints,omitempty"`
	Indexes     []Index      `json:"indexes,omitempty"`
	Triggers    []Trigger    `json:"triggers,omitempty"`
	Policies    []Policy     `json:"policies,omitempty"`

	// PartitionOf is the parent when this table is a partition.
	PartitionOf *QName `json:"partition_of,omitempty"`
	// PartitionKey lists the columns of the partition key of a partitioned
	// table (expressions are shown as written).
	PartitionKey []string `json:"partition_key,omitempty"`
	// Partitions lists the direct partitions of a partitioned table.
	Partitions []QName `json:"partitions,omitempty"`
	// InheritsFrom lists classic (non-partition) inheritance parents.
	InheritsFrom []QName `json:"inherits_from,omitempty"`
	// InheritedBy lists classic (non-partition) inheritance children.
	InheritedBy []QName `json:"inherited_by,omitempty"`

	RLSEnabled bool `json:"rls_enabled,omitempty"`
	// ReplicaIdentity is d (default), n (nothing), f (full) or i (index).
	ReplicaIdentity string `json:"replica_identity"`
	// Publications that publish this table.
	Publications []string `json:"publications,omitempty"`
}

// Column is one live (not dropped) column.
type Column struct {
	Name string `json:"name"`
	Num  int    `json:"num"`
	// Type is format_type() output, e.g. "integer", "bigint", "smallint".
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	// Default is pg_get_expr of the default, e.g. "nextval('tags_id_seq'::regclass)".
	Default string `json:"default,omitempty"`
	// Identity is "a" (ALWAYS), "d" (BY DEFAULT) or "".
	Identity string `json:"identity,omitempty"`
	// Generated is the expression of a stored generated column.
	Generated string `json:"generated,omitempty"`
	// Sequence is the sequence feeding this column through its default or
	// identity, resolved through pg_depend rather than by parsing text.
	Sequence *QName `json:"sequence,omitempty"`
	// GeneratedDeps lists generated columns of the same table whose
	// expression uses this column.
	GeneratedDeps []string `json:"generated_deps,omitempty"`
}

// Constraint types as in pg_constraint.contype.
const (
	ConPrimary   = "p"
	ConUnique    = "u"
	ConForeign   = "f"
	ConCheck     = "c"
	ConExclusion = "x"
)

// Constraint is a table constraint. NOT NULL is a column property, not here.
type Constraint struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Columns []string `json:"columns"`
	// Def is pg_get_constraintdef, e.g. "FOREIGN KEY (tag_id) REFERENCES tags(id) ON DELETE CASCADE".
	Def       string `json:"def"`
	Validated bool   `json:"validated"`
	// Inherited is true for constraints cloned onto a partition from its
	// parent (conparentid <> 0); they follow the parent's constraint.
	Inherited bool `json:"inherited,omitempty"`
	// Index backing a primary key, unique or exclusion constraint.
	Index string `json:"index,omitempty"`

	// Foreign keys only.
	RefTable   *QName   `json:"ref_table,omitempty"`
	RefColumns []string `json:"ref_columns,omitempty"`
}

// Index is one index of a table.
type Index struct {
	Name string `json:"name"`
	// Def is pg_get_indexdef, e.g. "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)".
	Def string `json:"def"`
	// Columns lists the key columns in order; "" stands for an expression.
	Columns []string `json:"columns"`
	// Include lists INCLUDE (non-key) columns.
	Include []string `json:"include,omitempty"`
	// ExprColumns lists the columns used by expressions or the predicate.
	ExprColumns []string `json:"expr_columns,omitempty"`
	Unique      bool     `json:"unique,omitempty"`
	Primary     bool     `json:"primary,omitempty"`
	Predicate   string   `json:"predicate,omitempty"`
	Valid       bool     `json:"valid"`
	Method      string   `json:"method"`
	// Constraint names the constraint this index backs, if any.
	Constraint string `json:"constraint,omitempty"`
	// ParentIndex is set for an index that is attached to a partitioned
	// parent's index.
	ParentIndex *QName `json:"parent_index,omitempty"`
	Bytes       int64  `json:"bytes"`
}

// Trigger is a user (non-internal) trigger.
type Trigger struct {
	Name     string `json:"name"`
	Def      string `json:"def"`
	Function QName  `json:"function"`
	// Enabled is pg_trigger.tgenabled: O, D, R or A.
	Enabled string `json:"enabled"`
	// Inherited is true for triggers cloned from a partitioned parent.
	Inherited bool `json:"inherited,omitempty"`
	// FunctionConfig is the function's SET clauses (pg_proc.proconfig),
	// e.g. "search_path=public". The cutover must not reset them.
	FunctionConfig []string `json:"function_config,omitempty"`
	// Columns lists the columns named in UPDATE OF or read by WHEN: ALTER
	// COLUMN TYPE refuses to change them while the trigger exists.
	Columns []string `json:"columns,omitempty"`
}

// Policy is a row-level security policy.
type Policy struct {
	Name string `json:"name"`
	// Def is the CREATE POLICY statement that re-creates it, e.g.
	// "CREATE POLICY p ON public.t AS PERMISSIVE FOR ALL TO PUBLIC USING ((tenant_id = 1))".
	Def     string   `json:"def,omitempty"`
	Columns []string `json:"columns,omitempty"` // columns its expressions use
}

// Sequence is a sequence with its type and current position.
type Sequence struct {
	Name      QName  `json:"name"`
	DataType  string `json:"data_type"` // smallint, integer or bigint
	Min       int64  `json:"min"`
	Max       int64  `json:"max"`
	Increment int64  `json:"increment"`
	Cycle     bool   `json:"cycle,omitempty"`
	Start     int64  `json:"start"`
	Cache     int64  `json:"cache"`
	// LastValue is nil when the sequence was never used or the current user
	// may not read it.
	LastValue *int64 `json:"last_value,omitempty"`
	// OwnedBy is the column the sequence belongs to (serial, identity or
	// ALTER SEQUENCE ... OWNED BY).
	OwnedBy *ColumnRef `json:"owned_by,omitempty"`
	// Identity is true for a sequence backing an identity column.
	Identity bool `json:"identity,omitempty"`
}

// View is a view, materialized view or rule that depends on table columns.
type View struct {
	Name QName `json:"name"`
	// Kind is "view", "materialized view" or "rule".
	Kind string `json:"kind"`
	// Definition is pg_get_viewdef (or pg_get_ruledef for rules).
	Definition string `json:"definition"`
	// DependsOn lists the table columns the view reads.
	DependsOn []ColumnRef `json:"depends_on"`
	// For rules, the table the rule is attached to.
	RuleTable *QName `json:"rule_table,omitempty"`
	// What re-creating a view must restore (of the view or, for a rule,
	// of its table): owner, reloptions such as security_barrier or
	// check_option, comment, and grants as GRANT statements.
	Owner   string   `json:"owner,omitempty"`
	Owned   bool     `json:"owned,omitempty"`
	Options []string `json:"options,omitempty"`
	Comment string   `json:"comment,omitempty"`
	Grants  []string `json:"grants,omitempty"`
}

// ColumnRef names one column of one table.
type ColumnRef struct {
	Table  QName  `json:"table"`
	Column string `json:"column"`
}
