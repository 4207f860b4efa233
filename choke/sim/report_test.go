package sim

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/choke"
)

// variants are the scenarios of docs/freerider.md besides the baseline.
func variants() []Scenario {
	with := func(name string, change func(c *Config)) Scenario {
		c := Baseline()
		change(&c)
		return Scenario{Name: name, Cfg: c}
	}
	return []Scenario{
		with("baseline", func(c *Config) {}),
		with("control: rate-blind round robin everywhere", func(c *Config) { c.Blind = true }),
		with("seeder ranks by upload rate (SeedFastestUpload)", func(c *Config) { c.SeederPolicy = choke.SeedFastestUpload }),
		with("contributors seed 60 s after completing", func(c *Config) { c.Linger = time.Minute }),
		with("contributors seed until the end", func(c *Config) { c.Linger = -1 }),
		with("seeder at 1 MiB/s", func(c *Config) { c.SeederRate = MiB }),
		with("seeder at 3 MiB/s", func(c *Config) { c.SeederRate = 3 * MiB }),
		with("16 contributors", func(c *Config) { c.Contributors = 16 }),
		with("anti-snubbing off", func(c *Config) { c.Choke.SnubTimeout = 1000 * time.Hour }),
		with("1 GiB torrent", func(c *Config) { c.FileSize = 1024 * MiB }),
	}
}

// TestFreeRiderReport prints the tables of docs/freerider.md (10 seeds each). It takes a
// few seconds, so it runs only with SWARM_FREERIDER_REPORT=1 (bench/freerider.sh).
func TestFreeRiderReport(t *testing.T) {
	if os.Getenv("SWARM_FREERIDER_REPORT") != "1" {
		t.Skip("set SWARM_FREERIDER_REPORT=1 to print the report")
	}
	var b strings.Builder
	b.WriteString("\n### Baseline, per seed\n\n")
	require.NoError(t, WriteTable(&b, Runs(Baseline(), 1, 10)))
	blind := Baseline()
	blind.Blind = true
	b.WriteString("\n### Control (rate-blind), per seed\n\n")
	require.NoError(t, WriteTable(&b, Runs(blind, 1, 10)))
	b.WriteString("\n### Variants (10 seeds each)\n\n")
	require.NoError(t, WriteSummary(&b, variants(), 1, 10))
	t.Log(b.String())
}
