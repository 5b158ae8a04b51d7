namespace Liber.Knowledge;

/// <summary>
/// How much encoded texts differ within and between groups (e.g. a user's partition summaries against other users'):
/// the mean cosine of consecutive texts of a group (in input order), of two texts of the same group, and of two texts of
/// different groups. When the last two are close, the encoder sees the texts as much the same whoever they describe, and a
/// fusion over them has little to weigh. Vectors of zero length (empty texts encoded as zeros) are left out.
/// </summary>
/// <param name="Groups">Distinct groups.</param>
/// <param name="Consecutive">Mean cosine of each text with the next one of the same group (NaN without such pairs).</param>
/// <param name="ConsecutivePairs">Pairs behind <paramref name="Consecutive"/>.</param>
/// <param name="SameGroup">Mean cosine of two different texts of the same group.</param>
/// <param name="SameGroupPairs">Pairs behind <paramref name="SameGroup"/>.</param>
/// <param name="OtherGroups">Mean cosine of two texts of different groups.</param>
/// <param name="OtherGroupPairs">Pairs behind <paramref name="OtherGroups"/>.</param>
/// <param name="Sampled">False: every pair was used; true: pairs were drawn at random (seeded) because there were too many.</param>
public sealed record TextSimilarity(int Groups, double Consecutive, long ConsecutivePairs, double SameGroup, long SameGroupPairs, double OtherGroups, long OtherGroupPairs, bool Sampled)
{
    /// <summary>Every pair is used up to this many pairs; above it, this many are drawn.</summary>
    public const int MaxPairs = 200_000;

    /// <summary>Computes the statistics of <paramref name="vectors"/> (row i belongs to <paramref name="groups"/>[i]).</summary>
    /// <param name="vectors">Encoded texts, one row per text.</param>
    /// <param name="groups">The group of each row.</param>
    /// <param name="seed">Seed of the pair sampling (used only above <see cref="MaxPairs"/> pairs).</param>
    public static TextSimilarity Of(EmbeddingMatrix vectors, IReadOnlyList<string> groups, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count != vectors.Count)
        {
            throw new ArgumentException($"{groups.Count} groups for {vectors.Count} vectors", nameof(groups));
        }

        int n = vectors.Count;
        var norms = new double[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> r = vectors.Row(i);
            double s = 0;
            foreach (float x in r)
            {
                s += (double)x * x;
            }

            norms[i] = Math.Sqrt(s);
        }

        double Cosine(int i, int j)
        {
            ReadOnlySpan<float> a = vectors.Row(i), b = vectors.Row(j);
            double dot = 0;
            for (int k = 0; k < a.Length; k++)
            {
                dot += (double)a[k] * b[k];
            }

            return dot / (norms[i] * norms[j]);
        }

        var consecutive = new Mean();
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            if (norms[i] == 0)
            {
                continue;
            }

            if (last.TryGetValue(groups[i], out int previous))
            {
                consecutive.Add(Cosine(previous, i));
            }

            last[groups[i]] = i;
        }

        int[] live = [.. Enumerable.Range(0, n).Where(i => norms[i] > 0)];
        var same = new Mean();
        var other = new Mean();
        long allPairs = (long)live.Length * (live.Length - 1) / 2;
        bool sampled = allPairs > MaxPairs;
        if (!sampled)
        {
            for (int a = 0; a < live.Length; a++)
            {
                for (int b = a + 1; b < live.Length; b++)
                {
                    (string.Equals(groups[live[a]], groups[live[b]], StringComparison.Ordinal) ? same : other).Add(Cosine(live[a], live[b]));
                }
            }
        }
        else
        {
            // Same-group pairs: a random text, then another text of its group; other-group pairs: two random texts of different groups.
            Dictionary<string, int[]> members = live.GroupBy(i => groups[i], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
            var random = new Random(seed);
            for (int draw = 0; draw < MaxPairs; draw++)
            {
                int i = live[random.Next(live.Length)];
                int[] mine = members[groups[i]];
                if (mine.Length > 1)
                {
                    int j = mine[random.Next(mine.Length - 1)];
                    same.Add(Cosine(i, j == i ? mine[^1] : j));
                }

                int k = live[random.Next(live.Length)];
                if (!string.Equals(groups[i], groups[k], StringComparison.Ordinal))
                {
                    other.Add(Cosine(i, k));
                }
            }
        }

        return new TextSimilarity(live.Select(i => groups[i]).Distinct(StringComparer.Ordinal).Count(), consecutive.Value, consecutive.Count, same.Value, same.Count, other.Value, other.Count, sampled);
    }

    private sealed class Mean
    {
        private double _sum;

        public long Count { get; private set; }

        public double Value => Count == 0 ? double.NaN : _sum / Count;

        public void Add(double x)
        {
            _sum += x;
            Count++;
        }
    }
}
