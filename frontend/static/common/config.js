// The page's configuration: the JSON the server puts in <script id="cad-config"> (map, targets,
// the incident lifecycle's transition table, version). Read once, shared by every module.
export const CONFIG = JSON.parse(document.getElementById("cad-config").textContent);
