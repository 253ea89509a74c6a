import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing

// Hibernation of idle regions over real processes; part of the serialized cluster suite.
extension ClusterTests {
    @Test("idle regions hibernate on every replica; writes wake them; a leader killed while they sleep is replaced")
    func idleRegionsHibernate() throws {
        let cluster = try LocalCluster()
        let client = try cluster.client()
        for key in ["b", "c", "d"] { _ = try client.split(at: bytes(key)) }
        for key in ["a", "b", "c", "d"] { try client.put(bytes(key + "1"), bytes("one")) }
        // Settled for 2 s: every replica of the four regions sleeps.
        #expect(LocalCluster.wait(timeout: 30) { (0..<3).allSatisfy { (try? cluster.stat("hibernating", of: $0)) == 4 } })
        // A write wakes its region (and a read is still linearizable: ReadIndex wakes the followers).
        try client.put(bytes("b2"), bytes("two"))
        #expect(try client.get(bytes("b2")) == bytes("two"))
        #expect(try client.get(bytes("c1")) == bytes("one"))
        #expect(LocalCluster.wait(timeout: 30) { (0..<3).allSatisfy { (try? cluster.stat("hibernating", of: $0)) == 4 } })
        // The node leading the first region dies while everything sleeps: the followers notice its store went
        // silent, wake, and elect new leaders.
        let victim = try #require(try cluster.leaderIndex())
        cluster.killNode(victim)
        let patient = try cluster.client(deadline: 30)
        for key in ["a", "b", "c", "d"] {
            try patient.put(bytes(key + "3"), bytes("three"))
            #expect(try patient.get(bytes(key + "1")) == bytes("one"))
        }
        let survivors = (0..<3).filter { $0 != victim }
        #expect(survivors.contains { ((try? cluster.stat("hibernation_wake_ups", of: $0)) ?? 0) > 0 })
    }
}
