package migrator

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgwiden/pgwiden/catalog"
)

// Managed services often impose settings with ALTER ROLE or ALTER DATABASE
// ... SET: a statement_timeout that would kill an index build, a
// default_transaction_read_only that would refuse every write, an idle
// timeout that would end the session holding the migration's lock while
// the other one works. pgwiden's sessions start with their own values and
// every statement that needs a bound sets it (exec.go); search_path is left
// alone, because every name pgwiden writes is qualified and its trigger
// functions pin their own.

// sessionSettings are set on every new connection, where the server knows
// them (idle_session_timeout is 14+, transaction_timeout 17+). They are
// not startup parameters: PgBouncer refuses a client whose startup packet
// carries parameters it does not know ("unsupported startup parameter").
var sessionSettings = map[string]string{
	"statement_timeout":                   "0",
	"idle_in_transaction_session_timeout": "0",
	"idle_session_timeout":                "0",
	"transaction_timeout":                 "0",
	"default_transaction_read_only":       "off",
}

// ConfigureSession makes cfg's connections start with the settings
// pgwiden's phases need, whatever the role or database imposes.
func ConfigureSession(cfg *pgxpool.Config) {
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if after != nil {
			if err := after(ctx, conn); err != nil {
				return err
			}
		}
		var names, values []string
		for k, v := range sessionSettings {
			names, values = append(names, k), append(values, v)
		}
		// The simple protocol, so a transaction-mode pooler lets this
		// through and CheckPooler can say what is wrong.
		_, err := conn.Exec(ctx, `/* pgwiden session */ SELECT set_config(s.name, v.value, false)
			FROM unnest($1::text[], $2::text[]) AS v(name, value) JOIN pg_catalog.pg_settings s USING (name)`,
			pgx.QueryExecModeSimpleProtocol, names, values)
		if err != nil {
			return fmt.Errorf("set pgwiden's session settings: %w", err)
		}
		return nil
	}
}

// imposedSettings reads what ALTER ROLE / ALTER DATABASE ... SET give this
// session: its own role's settings in this database, then its role's
// anywhere, the database's, and those for every role and database.
const imposedSettings = `/* pgwiden session */ SELECT CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'ALTER ROLE ALL'
	WHEN s.setrole = 0 THEN 'ALTER DATABASE' WHEN s.setdatabase = 0 THEN 'ALTER ROLE' ELSE 'ALTER ROLE ... IN DATABASE' END,
	c.setting
	FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
	WHERE s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user))
	AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
	ORDER BY s.setdatabase DESC, s.setrole DESC`

// logImposed says which settings imposed on the role or database pgwiden
// overrides, and how it bounds its statements instead.
func (m *Migrator) logImposed(ctx context.Context, q catalog.Querier) {
	rows, err := q.Query(ctx, imposedSettings)
	if err != nil {
		m.log.Warn().Err(err).Msg("read the settings ALTER ROLE / ALTER DATABASE impose")
		return
	}
	var by, setting string
	_, err = pgx.ForEachRow(rows, []any{&by, &setting}, func() error {
		name, value, _ := strings.Cut(setting, "=")
		if why := overrideReason(name); why != "" {
			m.log.Warn().Str("setting", name).Str("value", value).Str("set_by", by).
				Msgf("%s=%s (set by %s) overridden for pgwiden's sessions: %s", name, value, by, why)
		}
		return nil
	})
	if err != nil {
		m.log.Warn().Err(err).Msg("read the settings ALTER ROLE / ALTER DATABASE impose")
	}
}

// overrideReason says how pgwiden replaces an imposed setting, "" for one
// it leaves alone.
func overrideReason(name string) string {
	switch name {
	case "statement_timeout":
		return "each statement gets its own bound (--statement-timeout for catalog changes, none for index builds and validation)"
	case "lock_timeout":
		return "each statement that locks a table sets its own (--lock-timeout, --scan-lock-timeout)"
	case "idle_in_transaction_session_timeout", "idle_session_timeout", "transaction_timeout":
		return "pgwiden keeps no transaction open while it waits, and one session holds the migration's lock for the whole phase"
	case "default_transaction_read_only":
		return "pgwiden's phases write"
	}
	return ""
}
