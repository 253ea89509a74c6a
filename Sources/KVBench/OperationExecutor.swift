/// Issues one operation of a workload against a driver and checks what came back: the code path every store
/// shares.
///
/// A read of a record that exists must return that record's value at the configured size (see
/// ``RecordValue``); a missing or wrong value is a failure, not a success. Scans must start at the chosen
/// record and return valid records in ascending key order. Transfers must read well-formed balances of their
/// own accounts.
struct OperationExecutor {
    /// How an operation ended.
    enum Outcome: Equatable {
        /// The store answered and the answer checked out.
        case success
        /// It failed; the name is the error kind counted in reports, the message an example.
        case failure(name: String, message: String)
    }

    let configuration: BenchmarkConfiguration
    let keySpace: KeySpace
    private(set) var random: SeededGenerator
    private var chooser: KeyChooser

    /// Retries made by the operations executed so far (transaction conflicts).
    private(set) var retries = Tally()

    /// An executor for client `stream` of a run.
    init(configuration: BenchmarkConfiguration, keySpace: KeySpace, stream: Int) {
        self.configuration = configuration
        self.keySpace = keySpace
        random = SeededGenerator(seed: configuration.seed, stream: stream)
        chooser = KeyChooser(distribution: configuration.distribution)
        chooser.prepare(count: configuration.records)
    }

    /// Draws the kind of the next operation from the workload's mix.
    mutating func nextKind(mix: OperationMix) -> OperationKind {
        mix.next(using: &random)
    }

    /// Takes the retries counted so far and starts a new count.
    mutating func takeRetries() -> Tally {
        defer { retries = Tally() }
        return retries
    }

    /// Executes one operation of `kind`.
    ///
    /// - Parameters:
    ///   - kind: What to do.
    ///   - driver: The client's connection.
    /// - Returns: The checked outcome.
    /// - Throws: ``DriverError`` when the store failed (the caller counts it and may reconnect).
    mutating func execute(_ kind: OperationKind, on driver: any StoreDriver) throws(DriverError) -> Outcome {
        switch kind {
        case .read:
            let key = RecordKey.record(chooseRecord())
            return check(try driver.read(key), key: key)
        case .update:
            let key = RecordKey.record(chooseRecord())
            try driver.update(key, value: RecordValue.make(key: key, stamp: random.next(), size: configuration.valueSize))
            return .success
        case .insert:
            let number = keySpace.reserve()
            let key = RecordKey.record(number)
            do {
                try driver.insert(key, value: RecordValue.make(key: key, stamp: random.next(), size: configuration.valueSize))
            } catch {
                keySpace.finish(number, stored: false)
                throw error
            }
            keySpace.finish(number, stored: true)
            return .success
        case .scan:
            let key = RecordKey.record(chooseRecord())
            let length = 1 + Int(random.next() % UInt64(configuration.maxScanLength))
            return checkScan(try driver.scan(from: key, count: length), start: key, length: length)
        case .readModifyWrite:
            let key = RecordKey.record(chooseRecord())
            let replacement = RecordValue.make(key: key, stamp: random.next(), size: configuration.valueSize)
            let size = configuration.valueSize
            let old = try driver.readModifyWrite(key) { old in
                guard let old, RecordValue.check(old, key: key, size: size) == nil else { return nil }
                return replacement
            }
            return check(old, key: key)
        case .transfer:
            return try transfer(on: driver)
        }
    }

    /// A record number that exists, drawn from the key distribution.
    mutating func chooseRecord() -> Int {
        let count = keySpace.readableCount
        var number = chooser.next(count: count, using: &random)
        var attempts = 0
        while keySpace.isAbsent(number) && attempts < 16 {
            number = chooser.next(count: count, using: &random)
            attempts += 1
        }
        return number
    }

    /// Checks a value read under `key`.
    func check(_ value: [UInt8]?, key: [UInt8]) -> Outcome {
        guard let value else {
            return .failure(name: "missing-value", message: "no value for \(Self.show(key)), which was written")
        }
        if let problem = RecordValue.check(value, key: key, size: configuration.valueSize) {
            return .failure(name: "wrong-value", message: "\(Self.show(key)): \(problem)")
        }
        return .success
    }

    /// Checks the rows of a scan from `start` asking for `length` rows.
    func checkScan(_ rows: [(key: [UInt8], value: [UInt8]?)], start: [UInt8], length: Int) -> Outcome {
        guard let first = rows.first else {
            return .failure(name: "scan-empty", message: "scan from \(Self.show(start)) returned nothing")
        }
        guard rows.count <= length else {
            return .failure(name: "scan-too-long", message: "scan asked for \(length) rows, got \(rows.count)")
        }
        guard first.key == start else {
            return .failure(name: "missing-value", message: "scan from \(Self.show(start)) did not return that record")
        }
        var previous: [UInt8]?
        for row in rows {
            if let previous, !previous.lexicographicallyPrecedes(row.key) {
                return .failure(name: "scan-order", message: "scan rows out of key order at \(Self.show(row.key))")
            }
            guard row.key.starts(with: RecordKey.recordPrefix) else {
                return .failure(name: "scan-range", message: "scan returned \(Self.show(row.key)), not a record")
            }
            let outcome = check(row.value, key: row.key)
            if outcome != .success { return outcome }
            previous = row.key
        }
        return .success
    }

    private mutating func transfer(on driver: any StoreDriver) throws(DriverError) -> Outcome {
        let count = configuration.records
        let from = chooser.next(count: count, using: &random)
        var to = chooser.next(count: count, using: &random)
        if to == from { to = (from + 1 + Int(random.next() % UInt64(count - 1))) % count }
        let amount = 1 + Int(random.next() % 10)
        let fromKey = RecordKey.account(from)
        let toKey = RecordKey.account(to)
        for attempt in 0...configuration.transferRetries {
            if attempt > 0 { retries.add("conflict") }
            var problem: Outcome?
            let outcome = try driver.transfer(fromKey, toKey) { fromValue, toValue in
                guard let fromValue, let toValue else {
                    problem = .failure(name: "missing-value", message: "an account of a transfer has no value")
                    return nil
                }
                guard let fromBalance = AccountValue.balance(in: fromValue, key: fromKey),
                      let toBalance = AccountValue.balance(in: toValue, key: toKey)
                else {
                    problem = .failure(name: "wrong-value", message: "an account value is not a balance of its key")
                    return nil
                }
                guard fromBalance >= amount else { return nil }
                return (AccountValue.make(key: fromKey, balance: fromBalance - amount),
                        AccountValue.make(key: toKey, balance: toBalance + amount))
            }
            if let problem { return problem }
            if outcome != .conflict { return .success }
        }
        return .failure(name: "conflict-retries-exhausted", message: "transfer lost \(configuration.transferRetries + 1) times in a row")
    }

    /// A key for messages: as text when printable.
    static func show(_ key: [UInt8]) -> String {
        key.allSatisfy { $0 >= 0x21 && $0 <= 0x7E } ? String(decoding: key, as: UTF8.self) : "\(key.count)-byte key"
    }
}
