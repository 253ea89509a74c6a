import KVProtocol
import Logging
import NIOCore
import Synchronization

/// Serves one client connection: parses request lines, runs reads at once and writes through the store's
/// group commit, and sends answers back in request order.
///
/// A read that arrives after a write of the same connection still waiting for its commit joins that write's
/// submission, so a connection always reads its own writes. Reads of one read burst share one snapshot.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Slot {
        case waiting
        case ready(Response)
        /// A request whose sender reads no answer (a one-way `RAFT` chunk): nothing is written for it, and a
        /// refusal closes the connection instead, which is how such a sender learns of it.
        case waitingUnanswered
        case unanswered(Response)
    }

    private let store: any NodeService
    private let logger: Logger
    private var context: ChannelHandlerContext?

    /// Answers in request order; `slots[0]` has sequence number `firstSequence`.
    private var slots = CircularBuffer<Slot>()
    private var firstSequence = 0
    /// Reads of the current burst, answered from one snapshot at the end of the burst.
    private var pendingReads: [(sequence: Int, request: Request)] = []
    /// Requests that must go through the writer, gathered during the current burst.
    private var pendingWrites: [(sequence: Int, request: Request)] = []
    /// Submissions handed to the store and not yet answered.
    private var submissionsInFlight = 0
    private var closeAfterAnswers = false
    private var inputClosed = false
    private var readingPaused = false
    /// The answers of one flush, encoded here first (kept between flushes, so no array per answer).
    private var answerBytes: [UInt8] = []
    /// Bytes received after the last complete line. Lines are framed here, not by a `ByteToMessageHandler` in
    /// front: that handler's machinery and a boxed frame per line cost ~1 µs per request (perf, 16 clients).
    private var received: ByteBuffer?
    private var framer = LineFrameDecoder()

    /// Past this many unanswered requests the handler stops reading from the socket.
    static let maxUnanswered = 8192

    /// The event loop all connections share for handing writes to a busy store.
    private let writeLoop: any EventLoop

    private let readsNeedConsensus: Bool

    /// This connection's number, stamped on the `RAFT` chunks it carries (see ``RaftTransferChunk/connection``).
    private let connectionNumber = ConnectionHandler.nextConnectionNumber.wrappingAdd(1, ordering: .relaxed).newValue

    private static let nextConnectionNumber = Atomic<UInt64>(0)

    init(store: any NodeService, logger: Logger, writeLoop: any EventLoop) {
        self.store = store
        self.readsNeedConsensus = store.readsNeedConsensus
        self.logger = logger
        self.writeLoop = writeLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        store.serverStatistics.connections.add(1, ordering: .relaxed)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        store.serverStatistics.connections.subtract(1, ordering: .relaxed)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil || received!.readableBytes == 0 {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        do {
            while let frame = try framer.decode(buffer: &received!) { take(frame) }
        } catch {
            context.fireErrorCaught(error)
        }
        if received!.readableBytes == 0 {
            received = nil
        } else if received!.readerIndex >= 4096 {
            received!.discardReadBytes()  // a partial line waits for the rest; keep the buffer from growing
        }
    }

    /// Takes the lines left when the input ends: a last line without a line feed counts.
    private func takeLastLines(context: ChannelHandlerContext) {
        var rest = received ?? context.channel.allocator.buffer(capacity: 0)
        received = nil
        do {
            while let frame = try framer.decodeLast(buffer: &rest, seenEOF: true) { take(frame) }
        } catch {
            context.fireErrorCaught(error)
        }
    }

    /// Queues one request line: parsed, given its answer slot, and sorted into the burst's reads or writes.
    private func take(_ frame: LineFrame) {
        guard !closeAfterAnswers else { return }  // after QUIT, ignore the rest
        let sequence = firstSequence + slots.count
        switch frame {
        case .tooLong:
            slots.append(.ready(.error(ProtocolError(
                .lineTooLong, "request line over \(ProtocolLimits.maxLineLength) bytes was skipped"))))
        case .line(let buffer):
            var request: Request
            do {
                request = try Request.parse(Array(buffer.readableBytesView)[...])
            } catch {
                slots.append(.ready(.error(error)))
                return
            }
            if case .raft(var chunk) = request {
                chunk.connection = connectionNumber
                request = .raft(chunk)
            }
            slots.append(request.expectsAnswer ? .waiting : .waitingUnanswered)
            if request == .quit {
                closeAfterAnswers = true
                slots[offset: slots.count - 1] = .ready(.ok(["bye"]))
            } else if request.isWrite || submissionsInFlight > 0 || !pendingWrites.isEmpty
                || (readsNeedConsensus && request.readsData)
            {
                pendingWrites.append((sequence, request))
            } else {
                pendingReads.append((sequence, request))
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        dispatchPending()
        flushReadyAnswers()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The client finished sending (half-close): answer everything, then close.
            takeLastLines(context: context)
            inputClosed = true
            dispatchPending()
            flushReadyAnswers()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error, closing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Dispatch

    private func dispatchPending() {
        if !pendingReads.isEmpty {
            let reads = pendingReads
            pendingReads.removeAll(keepingCapacity: true)
            let answers = store.read(reads.map(\.request))
            for (read, answer) in zip(reads, answers) { fill(read.sequence, with: answer) }
        }
        if !pendingWrites.isEmpty {
            let writes = pendingWrites
            pendingWrites.removeAll(keepingCapacity: true)
            // One submission per run of requests naming the same region — each region's writes go through its
            // own log, so a client may pipeline requests for several regions of this node on one connection —
            // and a SPLIT alone. Answers still go out in request order (the slots).
            var runStart = 0
            for i in writes.indices where i + 1 == writes.count || !Self.shareSubmission(writes[i].request, writes[i + 1].request) {
                submit(writes[runStart...i])
                runStart = i + 1
            }
        }
        pauseReadingIfBacklogged()
    }

    private func submit(_ writes: ArraySlice<(sequence: Int, request: Request)>) {
        submissionsInFlight += 1
        let sequences = writes.map(\.sequence)
        let loopBound = NIOLoopBound(self, eventLoop: context!.eventLoop)
        let eventLoop = context!.eventLoop
        let submission = WriteSubmission(
            requests: writes.map(\.request), scheduleOnSubmitter: { eventLoop.execute($0) },
            scheduleOnWriteLoop: { [writeLoop] in writeLoop.execute($0) }
        ) { answers in
            if eventLoop.inEventLoop {
                loopBound.value.completeSubmission(sequences: sequences, answers: answers)
            } else {
                eventLoop.execute { loopBound.value.completeSubmission(sequences: sequences, answers: answers) }
            }
        }
        store.submit(submission)
    }

    /// Whether two consecutive requests may share a submission: they name the same region (or neither names
    /// one) and neither is a `SPLIT`, which a store takes alone.
    static func shareSubmission(_ first: Request, _ second: Request) -> Bool {
        let (a, contextA) = first.withoutContext
        let (b, contextB) = second.withoutContext
        if case .split = a { return false }
        if case .split = b { return false }
        return contextA?.regionID == contextB?.regionID
    }

    private func completeSubmission(sequences: [Int], answers: [Response]) {
        submissionsInFlight -= 1
        for (sequence, answer) in zip(sequences, answers) { fill(sequence, with: answer) }
        flushReadyAnswers()
    }

    private func fill(_ sequence: Int, with response: Response) {
        if case .waitingUnanswered = slots[offset: sequence - firstSequence] {
            slots[offset: sequence - firstSequence] = .unanswered(response)
        } else {
            slots[offset: sequence - firstSequence] = .ready(response)
        }
    }

    /// Writes the answers that are ready at the head of the queue, in order, and flushes once.
    private func flushReadyAnswers() {
        guard let context else { return }
        answerBytes.removeAll(keepingCapacity: true)
        var answered = 0
        answering: while let head = slots.first {
            switch head {
            case .ready(let response):
                response.append(to: &answerBytes)
            case .unanswered(.error(let error)):
                logger.info("closing a connection whose unanswered request was refused", metadata: ["error": "\(error)"])
                closeAfterAnswers = true  // input from here on is ignored; the rest is answered, then closed
            case .unanswered:
                break
            case .waiting, .waitingUnanswered:
                break answering
            }
            slots.removeFirst()
            firstSequence += 1
            answered += 1
        }
        if answered > 0 { store.serverStatistics.requests.add(answered, ordering: .relaxed) }  // unanswered ones too
        let buffer = answerBytes.isEmpty ? nil : context.channel.allocator.buffer(bytes: answerBytes)
        if answerBytes.capacity > 1 << 16 { answerBytes = [] }  // a big scan's answer is not kept per connection
        if slots.isEmpty && (closeAfterAnswers || inputClosed) {
            // Closing drops writes still queued in the channel, so close once the last answer is out: writes
            // complete in order, so this one (empty if nothing is left to say) completes after all of them.
            let channel = context.channel
            let last = context.writeAndFlush(wrapOutboundOut(buffer ?? channel.allocator.buffer(capacity: 0)))
            last.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if let buffer {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)  // no future per answer: nobody waits
        }
        resumeReadingIfDrained()
    }

    // MARK: - Back-pressure

    private func pauseReadingIfBacklogged() {
        guard !readingPaused, slots.count > Self.maxUnanswered, let context else { return }
        readingPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
    }

    private func resumeReadingIfDrained() {
        guard readingPaused, slots.count < Self.maxUnanswered / 4, let context else { return }
        readingPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        context.read()
    }
}
