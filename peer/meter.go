package peer

// meterSlots is the meter's window in ticks (seconds): the choker's ~20 s.
const meterSlots = 20

// meter measures a byte rate over the last ticks. The loop adds bytes as they move and ticks
// it once a second.
type meter struct {
	slots [meterSlots]int64
	pos   int   // next slot to fill
	n     int   // slots filled so far
	cur   int64 // bytes since the last tick
}

func (m *meter) add(n int64) { m.cur += n }

// tick closes the current second.
func (m *meter) tick() {
	m.slots[m.pos] = m.cur
	m.cur = 0
	m.pos = (m.pos + 1) % meterSlots
	m.n = min(m.n+1, meterSlots)
}

// rate is the bytes per second over the last window ticks (fewer if not yet ticked as often).
func (m *meter) rate(window int) float64 {
	window = min(window, m.n)
	if window == 0 {
		return 0
	}
	var sum int64
	for i := 1; i <= window; i++ {
		sum += m.slots[(m.pos-i+meterSlots)%meterSlots]
	}
	return float64(sum) / float64(window)
}
