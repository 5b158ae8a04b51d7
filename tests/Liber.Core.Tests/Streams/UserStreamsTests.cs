using Liber.Core.Data;
using Liber.Core.Streams;

namespace Liber.Core.Tests.Streams;

public sealed class UserStreamsTests
{
    [Fact]
    public void Streams_order_by_timestamp_and_ties_keep_file_order()
    {
        var ds = StreamFixtures.Make(
            (1, 10, 300, 5), // pos 0
            (1, 11, 100, 4), // pos 1
            (2, 20, 100, 3), // pos 2
            (1, 12, 300, 2), // pos 3: ties with pos 0, must follow it
            (1, 13, 100, 1)); // pos 4: ties with pos 1, must follow it
        var s = UserStreams.Build(ds);

        int u1 = ds.Users.GetOrAdd(1L);
        Assert.Equal([1, 4, 0, 3], s.Stream(u1).Select(e => (int)e.Position).ToArray());
        Assert.Equal([11, 13, 10, 12], s.Stream(u1).Select(e => int.Parse(ds.Items.External(e.Item), System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        Assert.Equal(4, s.Length(u1));
        Assert.Equal(1, s.Length(ds.Users.GetOrAdd(2L)));
        Assert.Equal(0, s.DuplicatesDropped);
    }

    [Fact]
    public void Duplicates_are_dropped_counted_and_the_first_in_file_order_kept()
    {
        var ds = StreamFixtures.Make(
            (1, 10, 100, 5), // kept
            (1, 11, 100, 4), // kept: same second, other item
            (1, 10, 100, 1), // duplicate of pos 0: dropped
            (1, 10, 200, 3), // kept: same item, later time
            (2, 10, 100, 2), // kept: other user
            (1, 11, 100, 2)); // duplicate of pos 1: dropped
        var s = UserStreams.Build(ds);

        Assert.Equal(2, s.DuplicatesDropped);
        Assert.Equal(4, s.EventCount);
        var u1 = s.Stream(ds.Users.GetOrAdd(1L)).ToArray();
        Assert.Equal([0L, 1L, 3L], u1.Select(e => e.Position).ToArray());
        Assert.Equal(5f, u1[0].Rating); // the first one's rating, not the later duplicate's
    }

    [Fact]
    public void Random_streams_match_a_stable_reference_ordering()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            Dataset ds = StreamFixtures.Random(seed, users: 7, maxEvents: 40, items: 12, timeSpread: 15);
            var s = UserStreams.Build(ds);
            var all = Enumerable.Range(0, ds.Events.Count).Select(p => ds.Events[p]).ToList();
            int dropped = 0;
            for (int u = 0; u < ds.Users.Count; u++)
            {
                // Reference: LINQ OrderBy is stable, so ties keep file order; then drop repeated (item, ts).
                var seen = new HashSet<(int, long)>();
                var expected = all.Where(e => e.User == u).OrderBy(e => e.Timestamp).Where(e => seen.Add((e.Item, e.Timestamp))).ToList();
                dropped += all.Count(e => e.User == u) - expected.Count;
                Assert.Equal(expected, s.Stream(u).ToList());
            }

            Assert.Equal(dropped, s.DuplicatesDropped);
        }
    }

    [Fact]
    public void UserOfRow_inverts_the_offsets()
    {
        Dataset ds = StreamFixtures.Random(3, users: 9, maxEvents: 20);
        var s = UserStreams.Build(ds);
        for (int u = 0; u < s.UserCount; u++)
        {
            for (int i = 0; i < s.Length(u); i++)
            {
                Assert.Equal(u, s.UserOfRow(s.Row(u, i)));
            }
        }
    }
}
