package catalog

// ColumnMeta is what PostgreSQL attaches to a column (to its attribute
// number, not its name) besides its type, default and constraints. A new
// column replacing an old one starts without any of it: the swap carries
// it over. Each field is empty when nothing is set.
type ColumnMeta struct {
	// Comment is COMMENT ON COLUMN (pg_description).
	Comment string `json:"comment,omitempty"`
	// StatsTarget is ALTER COLUMN SET STATISTICS (attstattarget); nil
	// for the default (-1 up to PostgreSQL 16, NULL from 17).
	StatsTarget *int `json:"stats_target,omitempty"`
	// Options are ALTER COLUMN SET (...) options (attoptions) as the
	// catalog stores them, e.g. "n_distinct=500".
	Options []string `json:"options,omitempty"`
	// Labels are SECURITY LABEL FOR provider ON COLUMN (pg_seclabel).
	Labels []SecurityLabel `json:"labels,omitempty"`
	// Grants are the column privileges (attacl), one per privilege.
	Grants []ColumnGrant `json:"grants,omitempty"`
}

// SecurityLabel is one provider's label on an object.
type SecurityLabel struct {
	Provider string `json:"provider"`
	Label    string `json:"label"`
}

// ColumnGrant is one column privilege as aclexplode(attacl) reports it.
type ColumnGrant struct {
	// Privilege is SELECT, INSERT, UPDATE or REFERENCES.
	Privilege string `json:"privilege"`
	// Grantee is the role name; empty for PUBLIC.
	Grantee string `json:"grantee,omitempty"`
	// Grantor is the role the grant is recorded as made by: the table's
	// owner, or a role that held the privilege WITH GRANT OPTION.
	Grantor   string `json:"grantor"`
	Grantable bool   `json:"grantable,omitempty"`
	// AsGrantor is true when the current user may act as Grantor (SET
	// ROLE: a member of it, or a superuser), which re-issuing a grant
	// made by a role other than the owner needs.
	AsGrantor bool `json:"as_grantor,omitempty"`
}

// Statistics is an extended statistics object (CREATE STATISTICS) on a
// table.
type Statistics struct {
	Name QName `json:"name"`
	// Def is pg_get_statisticsobjdef, e.g. "CREATE STATISTICS public.s
	// (ndistinct) ON a, b FROM public.t".
	Def string `json:"def"`
	// Columns lists the table's columns it uses, in keys or expressions.
	Columns []string `json:"columns"`
	// Target is ALTER STATISTICS SET STATISTICS (stxstattarget, 13+);
	// nil for the default.
	Target  *int   `json:"target,omitempty"`
	Owner   string `json:"owner"`
	Comment string `json:"comment,omitempty"`
}

// PublishedTable is a table's membership in a publication with a column
// list or a row filter (PostgreSQL 15+): both name columns, and so depend
// on them.
type PublishedTable struct {
	Publication string `json:"publication"`
	// Columns is the column list; nil publishes every column.
	Columns []string `json:"columns,omitempty"`
	// RowFilter is the WHERE expression, as pg_get_expr prints it.
	RowFilter string `json:"row_filter,omitempty"`
	// DependsOn lists the table's columns the list and filter use.
	DependsOn []string `json:"depends_on"`
	// Owned is true when the current user may ALTER the publication.
	Owned bool `json:"owned"`
}
