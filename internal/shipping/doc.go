// Package shipping holds the tests of what fluidb ships besides the binary:
// every file in configs/ is checked by the program it is written for
// (fluidb serve --test-config, haproxy -c, nutcracker -t, systemd-analyze
// verify, systemd-sysusers, systemd-tmpfiles), the files agree with each
// other (ports, passwords), and the shipped pair, HAProxy and twemproxy
// configurations are run for real on loopback ports 7200-7299: an active
// pair behind HAProxy losing a node and converging after its restart
// (failover_test.go), twemproxy spreading keys over two pairs that each
// lose a node (scaleout_test.go).
//
// The package has no code outside its tests; it imports server/config only
// to read the shipped files the way fluidb does.
package shipping
