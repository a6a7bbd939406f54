package server

import "time"

// SLOWLOG and LATENCY state.

type slowlog struct {
	entries []slowlogEntry
	nextID  int64
}

type slowlogEntry struct {
	id       int64
	at       int64 // unix seconds
	duration time.Duration
	argv     []string
	addr     string
	name     string
}

type latencyMonitor struct{}

func (l *slowlog) init() {}

func (s *Server) slowlogAdd(c *Client, d time.Duration) {}
