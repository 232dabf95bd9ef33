import Testing

@Test func targetLinks() { #expect(Bool(true)) }
