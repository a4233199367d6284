using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>The database itself makes a double allocation of one GPU impossible (allocations_no_double_booking).</summary>
public sealed class AllocationConstraintTests(SharedDatabase shared) : IClassFixture<SharedDatabase>
{
    private readonly TestDatabase _db = shared.Database;
    private const string ExclusionViolation = "23P01";
    private static readonly DateTimeOffset T0 = new(2030, 1, 7, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Overlapping_allocation_of_one_gpu_is_rejected()
    {
        var gpu = await NewGpuAsync();
        await AllocateAsync(gpu, T0, T0.AddHours(4));

        var error = await Assert.ThrowsAsync<PostgresException>(() => AllocateAsync(gpu, T0.AddHours(3), T0.AddHours(6)));

        Assert.Equal(ExclusionViolation, error.SqlState);
        Assert.Equal("allocations_no_double_booking", error.ConstraintName);
        Assert.Equal(1L, await CountAsync(gpu));
    }

    [Fact]
    public async Task Allocation_inside_or_around_an_existing_lease_is_rejected()
    {
        var gpu = await NewGpuAsync();
        await AllocateAsync(gpu, T0, T0.AddHours(4));

        var inside = await Assert.ThrowsAsync<PostgresException>(() => AllocateAsync(gpu, T0.AddHours(1), T0.AddHours(2)));
        var around = await Assert.ThrowsAsync<PostgresException>(() => AllocateAsync(gpu, T0.AddHours(-1), T0.AddHours(5)));

        Assert.Equal(ExclusionViolation, inside.SqlState);
        Assert.Equal(ExclusionViolation, around.SqlState);
    }

    [Fact]
    public async Task Back_to_back_leases_are_accepted()
    {
        var gpu = await NewGpuAsync();
        await AllocateAsync(gpu, T0, T0.AddHours(4));

        await AllocateAsync(gpu, T0.AddHours(4), T0.AddHours(8));
        await AllocateAsync(gpu, T0.AddHours(-2), T0);

        Assert.Equal(3L, await CountAsync(gpu));
    }

    [Fact]
    public async Task Same_time_on_different_gpus_is_accepted()
    {
        var first = await NewGpuAsync();
        var second = await NewGpuAsync();

        await AllocateAsync(first, T0, T0.AddHours(4));
        await AllocateAsync(second, T0, T0.AddHours(4));

        Assert.Equal(1L, await CountAsync(first));
        Assert.Equal(1L, await CountAsync(second));
    }

    [Fact]
    public async Task New_lease_after_an_early_release_is_accepted_but_not_before_it()
    {
        var gpu = await NewGpuAsync();
        var lease = await AllocateAsync(gpu, T0, T0.AddHours(10));
        await _db.ExecuteAsync("UPDATE allocations SET released_at = $1 WHERE id = $2", T0.AddHours(2), lease);

        var beforeRelease = await Assert.ThrowsAsync<PostgresException>(() => AllocateAsync(gpu, T0.AddHours(1), T0.AddHours(3)));
        await AllocateAsync(gpu, T0.AddHours(2), T0.AddHours(6));

        Assert.Equal(ExclusionViolation, beforeRelease.SqlState);
        Assert.Equal(2L, await CountAsync(gpu));
    }

    [Fact]
    public async Task Undoing_a_release_that_a_newer_lease_relies_on_is_rejected()
    {
        var gpu = await NewGpuAsync();
        var lease = await AllocateAsync(gpu, T0, T0.AddHours(10));
        await _db.ExecuteAsync("UPDATE allocations SET released_at = $1 WHERE id = $2", T0.AddHours(2), lease);
        await AllocateAsync(gpu, T0.AddHours(3), T0.AddHours(5));

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            _db.ExecuteAsync("UPDATE allocations SET released_at = NULL WHERE id = $1", lease));

        Assert.Equal(ExclusionViolation, error.SqlState);
    }

    private async Task<string> NewGpuAsync()
    {
        var gpu = "gpu-" + Guid.NewGuid().ToString("N")[..12];
        await _db.ExecuteAsync("INSERT INTO providers (id, name) VALUES ('alloc-test', 'Allocation tests') ON CONFLICT DO NOTHING");
        await _db.ExecuteAsync("""
            INSERT INTO gpus (id, provider_id, model, memory_mib, region, price_per_hour)
            VALUES ($1, 'alloc-test', 'H100', 81920, 'eu-west', 2.5)
            """, gpu);
        return gpu;
    }

    private async Task<Guid> AllocateAsync(string gpu, DateTimeOffset from, DateTimeOffset until)
    {
        var id = Guid.NewGuid();
        await _db.ExecuteAsync("""
            INSERT INTO allocations (id, request_id, gpu_id, tenant, starts_at, ends_at)
            VALUES ($1, $2, $3, 'tenant-a', $4, $5)
            """, id, Guid.NewGuid(), gpu, from, until);
        return id;
    }

    private Task<long> CountAsync(string gpu) => _db.ScalarAsync<long>("SELECT count(*) FROM allocations WHERE gpu_id = $1", gpu);
}
