import TollgateCore
import Testing
import TollgateScreening

@Test func badPatternIsReportedWithFileAndLine() throws {
    let pack = try TestEngine.temporaryPack("""
        version: 1
        rules:
          - id: fine
            category: t
            weight: 1
            pattern: 'ok'
          - id: broken
            category: t
            weight: 1
            pattern: '(unclosed'
        """)
    do {
        _ = try ScreeningEngine.load(injectionPackPaths: [pack], piiPackPath: nil, injectionThreshold: 1)
        Issue.record("a broken pattern must not load")
    } catch let error as PolicyLoadError {
        #expect(error.issues.count == 1)
        #expect(error.issues.first?.line == 10)
        #expect(error.description.hasPrefix("\(pack):10: pattern does not compile"))
    }
}

@Test func missingFieldsAndDuplicateIdsAreAllReported() throws {
    let pack = try TestEngine.temporaryPack("""
        version: 1
        rules:
          - id: x
            type: EMAIL
            pattern: 'a'
          - id: x
            type: EMAIL
            pattern: 'b'
          - id: y
            type: NOPE
            pattern: 'c'
          - id: z
            type: EMAIL
        """)
    do {
        _ = try ScreeningEngine.load(injectionPackPaths: [], piiPackPath: pack, injectionThreshold: 1)
        Issue.record("an invalid pack must not load")
    } catch let error as PolicyLoadError {
        let lines = error.issues.map(\.line).sorted()
        #expect(lines == [6, 10, 12])
    }
}

@Test func invalidYAMLNamesTheFile() throws {
    let pack = try TestEngine.temporaryPack("version: 1\nrules: [\n  - {id: a\n")
    #expect(throws: PolicyLoadError.self) {
        try ScreeningEngine.load(injectionPackPaths: [pack], piiPackPath: nil, injectionThreshold: 1)
    }
}
