/// The UTF-8 bytes of `text`, for writing keys and values in tests.
public func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
