/*
Package choke is BitTorrent's choker: which peers we upload to. It is a pure function of
a snapshot of the peers, the previous State, now and an injected *rand.Rand: no goroutines,
no I/O, no clock, no logging.

# Algorithm

Leeching (tit-for-tat). Every Interval (10 s) a full round ranks the interested peers that are
not snubbing us by the rate they send to us (Peer.DownRate) and unchokes the best Slots (4).
A peer is snubbed when it has sent no block for SnubTimeout (60 s), counted from
Peer.LastBlockAt or, if it never sent one, from Peer.ConnectedAt; it can then only get the
optimistic slot. As in mainline this holds whether or not we want its pieces: a peer with
nothing for us cannot reciprocate either. A peer holding a regular slot counts its rate Hysteresis (10 %) higher and
wins exact ties, so equal peers do not swap slots round after round; other ties are broken by
the rng. If fewer than Slots peers qualify, the slots stay free: uninterested peers never
hold a slot (they are choked, as they request nothing), which follows mainline, where only
interested peers count towards the upload slots.

Optimistic unchoke. One more slot goes to a random interested peer without a regular slot,
snubbed or not. It rotates every OptimisticInterval (30 s, so every third round); a peer
connected for less than NewPeerWindow (60 s) is NewPeerWeight (3) times as likely to be drawn,
since a newcomer has nothing to trade yet. This is how newcomers get their first pieces and
how we discover better partners: an optimistic peer that reciprocates well wins a regular
slot at the next round. When the holder wins a regular slot, leaves or loses interest, a new
peer is drawn at once for the rest of the turn: the 30 s schedule never restarts, so a peer
that is never promoted (a free-rider) does not hold the slot longer than one that is.

Seeding. Nobody uploads to a seed, so rates received mean nothing and nobody is snubbed.
SeedFastestUpload ranks by the rate we send to each peer (Peer.UpRate), with the same
hysteresis; SeedRoundRobin gives the regular slots to the next Slots interested peers in ID
order at every round, so every peer is served in turn. The optimistic slot works as when
leeching.

# What the engine must do

  - Keep one State per torrent, start from the zero State, and always pass the State returned
    by the previous call. Use the torrent's *rand.Rand and a monotonic now (never going back).
  - Call Decide every Interval (a ticker); Decide runs a full round on the first call, when
    seeding changes (pass seeding=true as soon as we have every piece), and when Interval
    has passed since the last round, with a tolerance of 5 % of Interval either way: a round
    run within the tolerance is recorded at its scheduled time, so ticker jitter neither
    skips a round nor makes the schedule drift (the optimistic rotation works the same way).
    State.NextRound says when the next round is due.
  - Calling it more often is safe and cheap, and the engine should also call it when a peer
    connects, disconnects, or changes interest. Between rounds Decide never re-ranks: peers
    holding a slot keep it while they stay interested (snubbing is judged only in rounds),
    free regular slots are filled by rank, and an optimistic peer that left, lost interest or
    won a regular slot is replaced at once.
  - Snapshot every connected peer (interested or not, in any order), with Choked telling what
    we last sent it: the choker reads it to know who holds a slot. DownRate and UpRate are
    payload bytes per second over a sliding window of about 20 s; LastBlockAt is the time of
    the last piece message received.
  - Apply each Decision before the next call: unchoke the peers in Decision.Unchoke that are
    choked, choke every other peer that is unchoked, and send nothing to peers whose state
    does not change. Decision.Snubbed and Decision.Round are for logs and metrics.
*/
package choke
