using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>
/// One migrated <see cref="TestDatabase"/> shared by the tests of a class (xUnit class fixtures need a
/// single public constructor, which TestDatabase does not have). Tests sharing it own distinct rows.
/// </summary>
public sealed class SharedDatabase : IAsyncLifetime
{
    public TestDatabase Database { get; } = new();

    public Task InitializeAsync() => Database.InitializeAsync();

    public Task DisposeAsync() => Database.DisposeAsync().AsTask();
}
