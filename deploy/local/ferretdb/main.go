// Command ferretdb-local runs FerretDB (embedded package, v1.24.x) with the
// PostgreSQL backend for local development. It stops on SIGTERM/SIGINT.
//
// Built by deploy/local/install.sh into .deps/bin/ferretdb-local.
// (The upstream cmd/ferretdb binary panics when built with `go install`
// because build/version/version.txt is missing, so we embed the package.)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	listen := flag.String("listen-addr", envOr("FERRETDB_LISTEN_ADDR", "127.0.0.1:27017"),
		"TCP address to listen on (env FERRETDB_LISTEN_ADDR)")
	pgURL := flag.String("postgresql-url",
		envOr("FERRETDB_POSTGRESQL_URL", "postgres://ferretdb:ferretdb@127.0.0.1:5432/ferretdb"),
		"PostgreSQL connection URL (env FERRETDB_POSTGRESQL_URL)")
	debug := flag.Bool("debug", os.Getenv("FERRETDB_DEBUG") != "", "debug logging (env FERRETDB_DEBUG)")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-local:", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("ferretdb-local listening", "addr", *listen, "uri", "mongodb://"+*listen+"/")
	if err := f.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-local:", err)
		os.Exit(1)
	}
	logger.Info("ferretdb-local stopped")
}
