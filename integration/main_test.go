//go:build !citus

package integration

import (
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestMain gives every test in this package a real PostgreSQL server; see
// package pgtest for where it comes from.
func TestMain(m *testing.M) { pgtest.Main(m) }
