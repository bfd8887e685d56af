/* Captive page: live payment status and the automatic router login. The page works
   without this file (refresh meta tag and buttons). No framework, no third-party host. */
(function () {
    "use strict";
    function poll(box) {
        var url = box.getAttribute("data-url");
        var next = box.getAttribute("data-next");
        var timer = setInterval(function () {
            var xhr = new XMLHttpRequest();
            xhr.open("GET", url);
            xhr.onload = function () {
                var data;
                try {
                    data = JSON.parse(xhr.responseText);
                } catch (e) {
                    return;
                }
                if (data.status && data.status !== "waiting") {
                    clearInterval(timer);
                    window.location.replace(next);
                }
            };
            xhr.send();
        }, 3000);
    }
    document.addEventListener("DOMContentLoaded", function () {
        var box = document.getElementById("hs-wait");
        if (box && box.getAttribute("data-status") === "waiting") {
            poll(box);
        }
        // connecting the device is a POST (CSRF token in the form): submitted by itself
        // right after a sign-in, and again every 20 s while the router cannot be reached
        var connect = document.getElementById("hs-connect");
        if (connect && connect.getAttribute("data-auto") === "1") {
            connect.submit();
        } else if (connect && connect.getAttribute("data-retry")) {
            setTimeout(function () {
                connect.submit();
            }, 1000 * parseInt(connect.getAttribute("data-retry"), 10));
        }
        var login = document.getElementById("hs-login");
        if (login && login.getAttribute("data-auto") === "1") {
            login.submit();
        }
        // "I paid by Paybill/Till": the bundle chosen in the payment form is the one claimed
        var claimed = document.getElementById("hs-rbundle");
        var radios = document.querySelectorAll("#hs-pay input[name=bundle_id]");
        for (var r = 0; r < radios.length; r++) {
            radios[r].addEventListener("change", function (ev) {
                if (claimed && ev.target.checked) {
                    claimed.value = ev.target.value;
                }
            });
        }
        var forms = document.querySelectorAll("form");
        for (var i = 0; i < forms.length; i++) {
            forms[i].addEventListener("submit", function (ev) {
                var button = ev.target.querySelector("button[type=submit]");
                if (button) {
                    setTimeout(function () {
                        button.disabled = true;
                    }, 0);
                }
            });
        }
    });
})();
