// Package config holds fluidb's redis.conf-style configuration: the table of
// directives (names, aliases, kinds, defaults, mutability and one-line docs),
// the file and command-line parser, and the runtime side used by the CONFIG
// command (GET with Redis globs, all-or-nothing multi-parameter SET, REWRITE).
//
// Values live in typed fields of Config so hot paths read them without any
// lookup or parsing; the directive table is the only place that knows how a
// field is spelled in a file, how it is validated and how it is rendered.
// Adding a directive means adding one entry to the table in directives.go and
// one field to Config.
//
// Semantics and error texts follow Redis 7.0 (config.c) so that existing
// redis.conf files and client tooling keep working; where fluidb refuses a
// Redis feature (cluster mode, TLS, rename-command, modules) the refusal is an
// explicit error rather than a silently ignored line.
//
// This package sits at the bottom of the dependency graph: it must import only
// the standard library and never other fluidb packages, so that every other
// package (and the CLI's --test-config) can depend on it without cycles.
package config
