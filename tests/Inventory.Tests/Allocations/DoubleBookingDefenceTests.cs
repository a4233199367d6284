using System.Net;

namespace Pipeline.Inventory.Tests.Allocations;

/// <summary>
/// The exclusion constraint is the last line of defence: when a lease appears that the granting
/// transaction could not see (here a trigger plays a writer that bypasses the row locks), the
/// insert fails with 23P01 and the API answers 409 with nothing granted.
/// </summary>
public sealed class DoubleBookingDefenceTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    [Fact]
    public async Task An_exclusion_violation_answers_409_and_grants_nothing()
    {
        await FleetSeed.GpuAsync(server.Database, "contested-1", "defence-co", region: "contested");
        await FleetSeed.GpuAsync(server.Database, "contested-2", "defence-co", region: "contested");
        await server.Database.ExecuteAsync("""
            CREATE FUNCTION sneak_in_a_lease() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.tenant = 'victim' AND NEW.gpu_id = 'contested-2' THEN
                    INSERT INTO allocations (request_id, gpu_id, tenant, starts_at, ends_at)
                    VALUES (gen_random_uuid(), NEW.gpu_id, 'sneaky', NEW.starts_at, NEW.ends_at);
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER sneak_in_a_lease BEFORE INSERT ON allocations FOR EACH ROW EXECUTE FUNCTION sneak_in_a_lease();
            """);

        var problem = await server.Admin.PostJson("/allocations", new { tenant = "victim", count = 2, leaseSeconds = 600, region = "contested" })
            .ProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains("allocations_no_double_booking", problem.GetProperty("detail").GetString());
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM allocations"));
    }
}
