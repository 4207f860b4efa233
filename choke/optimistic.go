package choke

import "slices"

// optimistic keeps or replaces the optimistic unchoke. Turns last OptimisticInterval and
// rotate on a full round. If the holder leaves, loses interest or wins a regular slot during
// its turn, a new peer is drawn at once among the interested peers without a regular slot
// (snubbed ones included) for the rest of that turn only, as in mainline, where the rotation
// is a fixed schedule: restarting the turn would let a peer that is never promoted (a
// free-rider) hold the slot longer than peers that reciprocate and get promoted. A rotation
// never redraws the outgoing holder unless it is the only candidate.
func (r *round) optimistic(regular []int, next *State) (int, bool) {
	cur := -1
	if r.prev.HasOptimistic {
		cur = r.index(r.prev.Optimistic)
	}
	valid := cur >= 0 && r.peers[cur].Interested && !slices.Contains(regular, cur)
	rotate := r.rotationDue()
	if valid && !rotate {
		return cur, true
	}
	at := r.now // a new turn
	switch {
	case rotate && r.prev.HasOptimistic:
		at = anchor(r.prev.OptimisticAt, r.cfg.OptimisticInterval, r.cfg.tolerance(), r.now)
	case r.prev.HasOptimistic:
		at = r.prev.OptimisticAt // the rest of the current turn
	}
	var cands []int
	for i := range r.peers {
		if r.peers[i].Interested && !slices.Contains(regular, i) && (i != cur || !valid) {
			cands = append(cands, i)
		}
	}
	if len(cands) == 0 && valid {
		cands = append(cands, cur) // the only candidate keeps the slot for another turn
	}
	if len(cands) == 0 {
		next.HasOptimistic, next.Optimistic, next.OptimisticAt = false, 0, r.now
		return -1, false
	}
	o := r.draw(cands)
	next.HasOptimistic, next.Optimistic, next.OptimisticAt = true, r.peers[o].ID, at
	return o, true
}

// rotationDue reports whether the optimistic holder's turn is over: only in a full round, and
// with the same tolerance as rounds so that three 10 s rounds make one 30 s turn.
func (r *round) rotationDue() bool {
	return r.due && overdue(r.prev.OptimisticAt, r.cfg.OptimisticInterval, r.cfg.tolerance(), r.now)
}

// draw picks one candidate at random, a peer connected for less than NewPeerWindow being
// NewPeerWeight times as likely as the others (mainline: newcomers have nothing to trade
// yet, so the optimistic slot is how they get their first pieces).
func (r *round) draw(cands []int) int {
	weight := func(i int) int {
		c := r.peers[i].ConnectedAt
		if !c.IsZero() && r.now.Sub(c) < r.cfg.NewPeerWindow {
			return NewPeerWeight
		}
		return 1
	}
	total := 0
	for _, i := range cands {
		total += weight(i)
	}
	x := r.rng.IntN(total)
	for _, i := range cands {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return cands[len(cands)-1] // unreachable: the weights sum to total
}

// index finds the peer with id, or -1.
func (r *round) index(id PeerID) int {
	i, ok := slices.BinarySearchFunc(r.peers, id, func(p Peer, id PeerID) int {
		switch {
		case p.ID < id:
			return -1
		case p.ID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}
