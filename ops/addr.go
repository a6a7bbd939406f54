package ops

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// DefaultPort is Redis's port, used when an address names none.
const DefaultPort = 6379

// Addr is a node to talk to. Password is empty when the node needs none.
type Addr struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Password string `json:"-"`
}

// String is host:port (IPv6 hosts in brackets).
func (a Addr) String() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// ParseAddr reads host:port, host (port 6379), or a redis://[[user]:password@]host[:port]
// URL. A password in the URL is kept in the Addr; otherwise password is used.
func ParseAddr(s, password string) (Addr, error) {
	a := Addr{Port: DefaultPort, Password: password}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return Addr{}, fmt.Errorf("bad address %q: %v", s, err)
		}
		if u.Scheme != "redis" {
			return Addr{}, fmt.Errorf("bad address %q: scheme must be redis:// (rediss:// is not supported)", s)
		}
		if p, ok := u.User.Password(); ok {
			a.Password = p
		}
		a.Host = u.Hostname()
		if ps := u.Port(); ps != "" {
			if a.Port, err = parsePort(ps); err != nil {
				return Addr{}, fmt.Errorf("bad address %q: %v", s, err)
			}
		}
	} else {
		a.Host = s
		if host, ps, err := net.SplitHostPort(s); err == nil {
			a.Host = host
			if a.Port, err = parsePort(ps); err != nil {
				return Addr{}, fmt.Errorf("bad address %q: %v", s, err)
			}
		} else if strings.Count(s, ":") == 1 {
			return Addr{}, fmt.Errorf("bad address %q: want host:port", s)
		}
		a.Host = strings.TrimSuffix(strings.TrimPrefix(a.Host, "["), "]")
	}
	if a.Host == "" {
		a.Host = "127.0.0.1"
	}
	return a, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return p, nil
}

// Password picks the password the way redis-cli does: the flag, then
// FLUIDB_PASSWORD, then REDISCLI_AUTH from the environment.
func Password(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if p := getenv("FLUIDB_PASSWORD"); p != "" {
		return p
	}
	return getenv("REDISCLI_AUTH")
}

// sameEndpoint reports whether host:port pairs name the same listener as far
// as can be told without DNS: loopback names are all one host.
func sameEndpoint(h1 string, p1 int, h2 string, p2 int) bool {
	return p1 == p2 && canonicalHost(h1) == canonicalHost(h2)
}

func canonicalHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	if h == "localhost" {
		return "127.0.0.1"
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsLoopback() {
			return "127.0.0.1"
		}
		return ip.String()
	}
	return h
}
