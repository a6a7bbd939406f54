//go:build !linux

package server

import (
	"errors"
	"net"
)

// Outside Linux, connections are served by one goroutine each.
type reactor struct{}

func newReactor(s *Server) (*reactor, error)     { return nil, errors.New("no reactor on this system") }
func (r *reactor) register(c *Client) bool       { return false }
func (r *reactor) schedule(c *Client, fn func()) {}
func (r *reactor) shutdown()                     {}
func (r *reactor) run()                          {}
func (r *reactor) letClientsIn()                 {}
func connFD(c net.Conn) int                      { return -1 }
