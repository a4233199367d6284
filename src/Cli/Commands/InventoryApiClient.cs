using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;

namespace Pipeline.Cli.Commands;

/// <summary>
/// The CLI's way into the inventory: plain HTTP calls to the API (Inventory:Url, Inventory:Token),
/// so validation, auth and allocation rules live only in the server.
/// </summary>
public sealed class InventoryApiClient : IDisposable
{
    private readonly HttpClient _http;

    private InventoryApiClient(HttpClient http) => _http = http;

    public static InventoryApiClient From(IConfiguration config)
    {
        var url = Settings.OptionalString(config, "Inventory:Url", "http://127.0.0.1:8080");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
            throw new InvalidSettingException("Inventory:Url", $"'{url}' is not an http(s) URL");
        var http = new HttpClient
        {
            BaseAddress = baseAddress,
            Timeout = Settings.Duration(config, "Inventory:ClientTimeout", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)),
        };
        if (config["Inventory:Token"] is { Length: > 0 } token)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new InventoryApiClient(http);
    }

    /// <summary>Sends a request and returns the JSON answer; a non-success answer throws <see cref="InventoryApiException"/>.</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string pathAndQuery, object? body, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery.TrimStart('/'));
        if (body is not null)
            request.Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        JsonElement json = default;
        if (text.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                json = document.RootElement.Clone();
            }
            catch (JsonException) when (!response.IsSuccessStatusCode)
            {
                // Not problem+json (e.g. a proxy's page): report the status alone.
            }
        }
        if (!response.IsSuccessStatusCode) throw InventoryApiException.From((int)response.StatusCode, response.ReasonPhrase, json);
        return json;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>An error answer of the inventory API, taken from its problem+json body.</summary>
public sealed class InventoryApiException(int status, string title, string? detail, string? field)
    : Exception($"{status} {title}" + (detail is null ? "" : $": {detail}") + (field is null ? "" : $" (field: {field})"))
{
    public int Status { get; } = status;

    public static InventoryApiException From(int status, string? reason, JsonElement problem)
    {
        string? Text(string name) =>
            problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new InventoryApiException(status, Text("title") ?? reason ?? "error", Text("detail"), Text("field"));
    }
}
