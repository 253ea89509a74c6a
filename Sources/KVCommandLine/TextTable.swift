/// A table printed with aligned columns for people: a header row, then one row per record, columns
/// separated by two spaces; numbers are right-aligned.
public struct TextTable: Sendable {
    private let header: [String]
    private var rows: [[String]] = []

    /// Starts a table with column names.
    public init(_ header: [String]) {
        self.header = header
    }

    /// Adds a row; missing cells are empty, extra ones dropped.
    public mutating func append(_ row: [String]) {
        rows.append(Array((row + Array(repeating: "", count: max(0, header.count - row.count))).prefix(header.count)))
    }

    /// The table's lines, without line feeds.
    public var lines: [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        let numeric = header.indices.map { column in
            !rows.isEmpty && rows.allSatisfy { row in row[column].isEmpty || Double(row[column]) != nil }
        }
        return all.map { row in
            let cells = row.indices.map { column -> String in
                let cell = row[column]
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return numeric[column] ? padding + cell : cell + padding
            }
            var line = cells.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    /// Writes the table to standard output.
    public func print() {
        for line in lines { StandardStreams.writeLine(line) }
    }
}
