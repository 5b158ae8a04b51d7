using System.Text.Json;

namespace Liber.Cli.Tests;

/// <summary>What a person reads names users by the data set's own ids (c1, not 0), and the files stay joinable by the verbs that read them.</summary>
public sealed class DatasetIdTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("liber-ids-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Learn_out_names_users_by_their_own_ids_and_encode_groups_by_them()
    {
        string data = CliRunner.StringIdCsv(Directory.CreateDirectory(Path.Combine(_dir, "data")).FullName);
        string texts = Path.Combine(_dir, "texts.jsonl");
        var (code, _, error) = CliRunner.Run("learn", "--dataset", "csv", "--path", data, "--k", "5", "--out", texts);
        Assert.True(code == 0, error);
        string[] lines = File.ReadAllLines(texts);
        Assert.NotEmpty(lines);
        var users = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("user")).ToList();
        Assert.All(users, u => Assert.Equal(JsonValueKind.String, u.ValueKind));
        Assert.Equal("c1", users[0].GetString());
        Assert.Equal(8, users.Select(u => u.GetString()).Distinct().Count());
        Assert.All(users, u => Assert.StartsWith("c", u.GetString(), StringComparison.Ordinal));

        // encode reads the file back, grouping texts by those ids.
        (code, string output, error) = CliRunner.Run("encode", "--texts", texts, "--text-field", "summary", "--group-field", "user", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(8, JsonDocument.Parse(output).RootElement.GetProperty("similarity").GetProperty("groups").GetInt32());
    }
}
