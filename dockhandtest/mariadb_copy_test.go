package dockhandtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/dockhandtest"
	"github.com/dockhand/dockhand/internal/testbench"
)

// Tables whose names differ only by case (`Users` and `users`, distinct
// tables with lower_case_table_names=0) are both copied, each with its
// own columns and rows.
func TestMariaDBTablesDifferingByCase(t *testing.T) {
	requireMariaDB(t)
	ctx := ctxFor(t, 5*time.Minute)
	db := dockhandtest.NewMariaDB(t, dockhandtest.WithImage(testbench.MariaDB),
		dockhandtest.WithMigrations(randomVersion("case-"), func(ctx context.Context, dsn string) error {
			return execAll(ctx, dsn,
				"CREATE TABLE `Users` (id int PRIMARY KEY, login varchar(20) NOT NULL)",
				"CREATE TABLE `users` (uid int PRIMARY KEY, email varchar(50) NOT NULL, age int NOT NULL)",
				"INSERT INTO `Users` VALUES (1, 'ada')",
				"INSERT INTO `users` VALUES (7, 'bob@example.com', 42), (8, 'carol@example.com', 9)")
		}))
	conn := openMaria(t, db.DSN())
	require.Equal(t, 0, sqlCount(t, ctx, conn, "SELECT @@lower_case_table_names"), "the server tells the two tables apart")
	assert.Equal(t, 1, sqlCount(t, ctx, conn, "SELECT count(*) FROM `Users` WHERE login = 'ada'"), "`Users` copied")
	assert.Equal(t, 51, sqlCount(t, ctx, conn, "SELECT sum(age) FROM `users`"), "`users` copied")
	assert.Equal(t, 2, sqlCount(t, ctx, conn, "SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND BINARY TABLE_NAME = 'Users'"))
}

// MariaDBSpec passes only flags: the image's entrypoint puts its server
// in front of them, so an image without mariadbd (mariadb:10.4, mysql:8)
// gets to the version check and its clear error rather than failing to
// start.
func TestMariaDBSpecFlagsOnly(t *testing.T) {
	for _, durable := range []bool{false, true} {
		spec := dockhandtest.MariaDBSpec(testbench.MariaDB, durable, false)
		require.NotEmpty(t, spec.Cmd)
		for _, a := range spec.Cmd {
			assert.True(t, strings.HasPrefix(a, "-"), "durable=%v: argument %q is not a flag", durable, a)
		}
	}
}
