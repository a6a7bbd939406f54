package rdb

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/fluidb/fluidb/server/keyspace"
)

// FuzzLoad feeds arbitrary bytes to the loader: it may refuse them, but it
// must not panic, hang or allocate without bound. The seeds are the
// redis-server fixtures in testdata, a fluidb-written file, and Redis's own
// test assets when available.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.rdb")
	more, _ := filepath.Glob(filepath.Join(redisAssets, "*.rdb"))
	for _, name := range append(files, more...) {
		if b, err := os.ReadFile(name); err == nil && len(b) < 200000 {
			f.Add(b)
		}
	}
	f.Add(writeSample(f, sampleData(keyspace.NewOrigins())[:5], true, true))
	f.Add([]byte("REDIS0010\xff\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := &Options{Limits: DefaultLimits(), VerifyChecksum: false, Origins: keyspace.NewOrigins(), Databases: 16}
		_, _ = Load(bytes.NewReader(data), int64(len(data)), opts, func(*Record) error { return nil })
		_, _ = Load(bytes.NewReader(data), -1, opts, func(*Record) error { return nil })
		if len(data) > 10 {
			_, _ = DecodeDump(data, DefaultLimits())
		}
	})
}
