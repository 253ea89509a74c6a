import KVProtocol
import Raft

// Hibernation of idle regions (cluster mode), so that a node hosting many regions costs, when idle, in
// proportion to the regions that are busy rather than to all of them.
//
// A leader whose region has been settled for `hibernateTicks` ticks (nothing proposed, every follower's log
// matching its own, everything committed and applied, no read or leader transfer pending) stops ticking —
// so it sends no Raft heartbeats — and tells its followers so; a follower that is caught up with that leader
// stops ticking too, so it never campaigns against a leader that is merely quiet. Any message, proposal,
// read or operator for the region wakes its peer up, and a woken leader's first message wakes its followers.
//
// A follower must still notice a dead leader: every store sends a small keep-alive to the stores it shares
// regions with twice a second, and a hibernating follower whose leader's store has not been heard from for
// `storeSilenceSeconds` wakes up, ticks, and campaigns after an election timeout as usual. So the cost of
// idle regions is one keep-alive per pair of stores, not a heartbeat per region.
extension RaftStore {
    /// The context that marks a heartbeat as the leader's hibernation notice (ReadIndex contexts are 8 bytes).
    static let hibernationNotice = Array("hibernate".utf8)
    /// Seconds between keep-alives to each store that shares a region with this one.
    static let keepAliveSeconds = 0.5
    /// A hibernating follower wakes once its leader's store has been silent this long.
    static let storeSilenceSeconds = 3.0

    /// Per tick, after the turn's Readies went out (so a notice follows the tick's last heartbeat): counts
    /// leaders' quiet ticks and hibernates the settled ones; wakes followers whose leader's store went silent;
    /// sends the keep-alives. Call with `storeLock` held.
    func advanceHibernation() {
        guard let transport, options.hibernateTicks > 0 else { return }
        for peer in peers.values where !peer.isHibernating {
            if peer.node.role == .leader && isSettled(peer) { peer.quietTicks += 1 } else { peer.quietTicks = 0 }
            if peer.quietTicks >= options.hibernateTicks { hibernate(peer) }
        }
        let now = monotonicSeconds()
        guard now >= nextKeepAlive else { return }
        nextKeepAlive = now + Self.keepAliveSeconds
        let heard = lastHeardFrom.withLock { $0 }
        var stores = Set<UInt64>()
        for peer in peers.values {
            for member in peer.region.peers where member.storeID != storeIdentity.storeID { stores.insert(member.storeID) }
            guard peer.isHibernating, peer.node.role != .leader else { continue }
            let leaderStore = peer.storeID(of: peer.node.leader) ?? 0
            if now - (heard[leaderStore] ?? 0) > Self.storeSilenceSeconds {
                peer.wake()
                statistics.hibernationWakeUps.add(1, ordering: .relaxed)
            }
        }
        let from = RegionPeer(id: 0, storeID: storeIdentity.storeID)
        transport.send(stores.map { store in
            RaftEnvelope(
                region: Region(id: 0, peers: []), from: from, to: RegionPeer(id: 0, storeID: store), message: Message(kind: .heartbeat))
        })
        statistics.hibernatingRegions.store(peers.values.filter(\.isHibernating).count, ordering: .relaxed)
    }

    /// Whether a leader's region has nothing in flight: followers match its log, all of it committed and
    /// applied, nothing proposed or read or transferring.
    private func isSettled(_ peer: Peer) -> Bool {
        let node = peer.node
        guard peer.region.peers.count > 1, node.committedIndex == node.lastIndex, peer.appliedIndex == node.committedIndex,
            node.leaderTransferee == 0, peer.proposalsHead == peer.proposals.count, readsAwaitingIndex[peer.region.id] == nil
        else { return false }
        for voter in node.confState.voters where voter != peer.peerID {
            guard let progress = node.progress(of: voter), progress.match == node.lastIndex else { return false }
        }
        return !pendingReadIndex.values.contains { $0.regionID == peer.region.id }
    }

    /// Stops a settled leader's ticks and tells its followers.
    private func hibernate(_ peer: Peer) {
        peer.isHibernating = true
        let from = RegionPeer(id: peer.peerID, storeID: storeIdentity.storeID)
        var notices: [RaftEnvelope] = []
        for member in peer.region.peers where member.id != peer.peerID {
            notices.append(RaftEnvelope(
                region: peer.region, from: from, to: member,
                message: Message(
                    kind: .heartbeat, from: peer.peerID, to: member.id, term: peer.node.term, commit: peer.node.committedIndex,
                    context: Self.hibernationNotice)))
        }
        transport?.send(notices)
    }

    /// A follower's answer to its leader's hibernation notice: it stops ticking too if it is caught up with
    /// that leader in that term (otherwise it stays awake, and if the leader stays silent, campaigns, which
    /// wakes the leader).
    func handleHibernationNotice(_ envelope: RaftEnvelope, to peer: Peer) {
        let node = peer.node
        guard node.role == .follower, node.leader == envelope.from.id, node.term == envelope.message.term,
            node.committedIndex == envelope.message.commit, node.lastIndex == envelope.message.commit,
            peer.appliedIndex == node.committedIndex
        else { return }
        peer.isHibernating = true
        peer.quietTicks = 0
    }
}

extension RaftEnvelope {
    /// Whether the message should wake a hibernating peer: anything but the answers to a leader's last
    /// heartbeats and appends before it slept.
    var wakesPeer: Bool {
        switch message.kind {
        case .heartbeatResponse: false
        case .appendResponse: message.reject
        default: true
        }
    }

    /// Whether this is a store's keep-alive (no region).
    var isKeepAlive: Bool { region.id == 0 }

    /// Whether this is a leader's hibernation notice.
    var isHibernationNotice: Bool {
        message.kind == .heartbeat && message.context == RaftStore.hibernationNotice
    }
}
