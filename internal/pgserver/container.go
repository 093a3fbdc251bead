package pgserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"

	pgdsn "github.com/pgwiden/pgwiden/internal/dsn"
)

// containerImage is the server the container fallback runs.
const containerImage = "postgres:16-alpine"

// dockerHealthy reports why no Docker engine answers, or nil. It is
// testcontainers.SkipIfProviderIsNotHealthy without the skip: CI must fail
// when it has no server, never go green having run nothing. Provider
// discovery panics in some broken setups, hence the recover.
func dockerHealthy(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err
	}
	return provider.Health(ctx) // Health closes the provider
}

// startContainer runs postgres:16-alpine with the same settings as the
// local cluster. Trust authentication lets callers connect as any role
// with no password, as on the local cluster.
func startContainer(ctx context.Context, settings []string) (*Server, error) {
	cmd := []string{"postgres"}
	for _, s := range append(defaultSettings(), settings...) {
		if s != "listen_addresses=127.0.0.1" { // the image listens on *
			cmd = append(cmd, "-c", s)
		}
	}
	ctr, err := tcpostgres.Run(ctx, containerImage,
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		testcontainers.WithEnv(map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust"}),
		testcontainers.WithCmd(cmd...),
		tcpostgres.BasicWaitStrategies(),
	)
	stop := func() error {
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			return fmt.Errorf("terminate %s container: %w", containerImage, err)
		}
		return nil
	}
	if err != nil {
		// Run may return a started container along with the error.
		return nil, errors.Join(fmt.Errorf("run %s: %w", containerImage, err), stop())
	}
	dsn, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connection string of %s container: %w", containerImage, err), stop())
	}
	return &Server{kind: KindContainer, adminDSN: dsn, where: pgdsn.Describe(dsn), stopFn: stop}, nil
}
