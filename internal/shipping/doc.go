// Package shipping holds the tests of what fluidb ships besides the binary:
// every file in configs/ is checked by the program it is written for
// (fluidb serve --test-config, haproxy -c, nutcracker -t, systemd-analyze
// verify, systemd-sysusers, systemd-tmpfiles), the files agree with each
// other (ports, passwords), and the HAProxy and twemproxy configurations are
// run for real against fluidb and stand-in servers.
//
// The package has no code outside its tests; it imports server/config only
// to read the shipped files the way fluidb does.
package shipping
