package demo

import (
	"context"
	"io"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/fluidb/fluidb/ops"
	"github.com/fluidb/fluidb/tui"
)

// View says how Run shows the demo.
type View struct {
	// Dashboard opens the watch dashboard on the terminal; otherwise Run
	// prints a plain table to Out every Every (default 5s).
	Dashboard bool
	Renderer  *lipgloss.Renderer
	Interval  time.Duration // dashboard polling (default 1s)
	Out       io.Writer
	Every     time.Duration
	// For, when set, ends the demo after this long.
	For time.Duration
}

// Run starts the demo, shows it until the user quits, ctx ends or v.For
// passes, and stops everything.
func Run(ctx context.Context, opt Options, v View) (err error) {
	d, err := Start(ctx, opt)
	if err != nil {
		return err
	}
	defer func() {
		if serr := d.Stop(); err == nil {
			err = serr
		}
	}()
	if v.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.For)
		defer cancel()
	}
	if v.Interval <= 0 {
		v.Interval = time.Second
	}
	if v.Dashboard {
		d.setLog(io.Discard)
		pctx, cancel := context.WithCancel(ctx)
		p := ops.NewPoller(d.Addrs(), ops.PollerOptions{Interval: v.Interval})
		p.Start(pctx)
		defer func() { cancel(); p.Wait() }()
		return tui.Run(ctx, p, tui.Options{Title: "fluidb demo", Interval: v.Interval, Renderer: v.Renderer, Note: d.Note})
	}
	if v.Every <= 0 {
		v.Every = 5 * time.Second
	}
	tick := time.NewTicker(v.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return tui.WriteTable(v.Out, ops.Collect(context.Background(), d.Addrs(), ops.PollerOptions{}), 0)
		case <-tick.C:
			if err := tui.WriteTable(v.Out, ops.Collect(ctx, d.Addrs(), ops.PollerOptions{}), 0); err != nil {
				return err
			}
		}
	}
}
